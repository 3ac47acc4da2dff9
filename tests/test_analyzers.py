"""The analyzers package on its own: contract, each language's chain, detection."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEEDS

import analyzers
from analyzers import Token


def terms(text: str, lang: str) -> list[str]:
    return [t.term for t in analyzers.analyze(text, lang)]


def test_analyzers_package_does_not_import_whoosh() -> None:
    code = "import sys, analyzers; analyzers.analyze('x', 'ru'); print('whoosh' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tokens_carry_positions_and_offsets_into_the_text() -> None:
    text = "Посол вручил грамоты Президенту Лаоса"
    tokens = analyzers.analyze(text, "ru")
    assert all(isinstance(t, Token) for t in tokens)
    assert [text[t.start : t.end] for t in tokens] == [
        "Посол",
        "вручил",
        "грамоты",
        "Президенту",
        "Лаоса",
    ]
    assert [t.position for t in tokens] == [0, 1, 2, 3, 4]


def test_stopwords_keep_their_position_slot() -> None:
    tokens = analyzers.analyze("встреча с послом", "ru")
    assert [(t.term, t.position) for t in tokens] == [("встреча", 0), ("посол", 2)]


def test_languages_lists_the_dedicated_analyzers() -> None:
    langs = analyzers.languages()
    for lang in ("ru", "ar", "no", "en", "de", "es", "el", "tr", "ro", "hi", "zh", "th"):
        assert lang in langs
    assert "xx" not in langs


@pytest.mark.parametrize("code", ["xx", "", "klingon", "vi", "ZZ-Top"])
def test_unknown_languages_fall_back_to_the_generic_analyzer(code: str) -> None:
    assert terms("Hello Wörld", code) == ["hello", "wörld"]


def test_nb_is_an_alias_of_no() -> None:
    assert terms("naturkatastrofene", "nb") == terms("naturkatastrofene", "no")
    assert analyzers.canonical("nb") == "no"


# -- Russian -----------------------------------------------------------------------


def test_russian_lemmatizes_case_forms_together() -> None:
    assert len(set(terms("Лаос Лаоса Лаосу Лаосом", "ru"))) == 1
    assert terms("Иорданией", "ru") == terms("Иордания", "ru")


def test_russian_conflates_case_forms_of_unknown_names() -> None:
    assert len(set(terms("Тхонглун Тхонглуна Тхонглуну", "ru"))) == 1
    assert len(set(terms("Ашимбаев Ашимбаева Ашимбаеву Ашимбаевым", "ru"))) == 1


def test_russian_folds_yo_and_stress_marks() -> None:
    assert terms("ёлка", "ru") == terms("елка", "ru")
    assert terms("университе́т", "ru") == terms("университет", "ru")


def test_russian_hyphenated_words_are_findable_by_their_parts() -> None:
    whole = terms("казахско-лаосских торгово-экономического", "ru")
    assert terms("лаосских", "ru")[0] in whole
    assert terms("экономического", "ru")[0] in whole


def test_russian_drops_stopwords() -> None:
    assert terms("и в на с по", "ru") == []


# -- Arabic ------------------------------------------------------------------------


def test_arabic_ignores_diacritics_and_tatweel() -> None:
    assert terms("الْمُشَاوَرَةُ السِّيَاسِيَّةُ", "ar") == terms("المشاورة السياسية", "ar")
    assert terms("السيـــاسية", "ar") == terms("السياسية", "ar")


def test_arabic_unifies_alef_forms_and_keeps_names() -> None:
    assert terms("أحمد", "ar") == terms("احمد", "ar") == terms("إحمد", "ar")
    assert terms("فيتنام", "ar") == ["فيتنام"]


def test_arabic_strips_article_and_conjunction_prefixes() -> None:
    base = terms("لاوس", "ar")
    for form in ("ولاوس", "بلاوس"):
        assert terms(form, "ar") == base or terms(form, "ar")[0].endswith(base[0])
    assert terms("والسياسة", "ar") == terms("سياسة", "ar")


def test_arabic_folds_teh_marbuta_and_alef_maksura() -> None:
    assert terms("مشاورة", "ar") == terms("مشاوره", "ar")
    assert terms("مستشفى", "ar") == terms("مستشفي", "ar")


def test_arabic_indic_and_persian_digits_become_ascii() -> None:
    assert terms("٢٠٢٤", "ar") == ["2024"]
    assert terms("۲۰۲۴", "ar") == ["2024"]


def test_arabic_drops_stopwords() -> None:
    assert terms("في من على إلى", "ar") == []


# -- Norwegian, Snowball languages, generic ---------------------------------------------


def test_norwegian_lemmatizes_and_keeps_special_letters() -> None:
    assert terms("naturkatastrofene", "no") == terms("naturkatastrofe", "no")
    assert terms("flommene", "no") == terms("flommen", "no")
    assert terms("dør", "no") != terms("dor", "no")


def test_norwegian_unknown_words_are_stemmed() -> None:
    assert terms("xyzbanene", "no") == terms("xyzbanen", "no")


def test_english_stems_and_drops_stopwords() -> None:
    assert terms("the runners were running", "en") == ["runner", "run"]


@pytest.mark.parametrize(
    ("lang", "forms"),
    [
        ("de", "Häuser Häusern"),
        ("es", "naciones nación"),
        ("el", "πόλεις πόλη"),
        ("ro", "orașele orașul"),
        ("tr", "evlerde evler"),
        ("hi", "लड़कों लड़के"),
    ],
)
def test_snowball_languages_conflate_inflections(lang: str, forms: str) -> None:
    assert len(set(terms(forms, lang))) == 1


def test_turkish_dotted_capital_i_lowercases_to_i() -> None:
    assert terms("İstanbul", "tr") == terms("istanbul", "tr")


def test_han_text_becomes_overlapping_bigrams() -> None:
    text = "中华人民共和国"
    tokens = analyzers.analyze(text, "zh")
    assert [t.term for t in tokens] == ["中华", "华人", "人民", "民共", "共和", "和国"]
    assert all(text[t.start : t.end] == t.term for t in tokens)


def test_thai_becomes_bigrams_whatever_the_language_code() -> None:
    assert terms("ภาษาไทย", "xx") == terms("ภาษาไทย", "th")
    assert len(terms("ภาษาไทย", "th")) > 1


def test_devanagari_words_keep_their_vowel_signs() -> None:
    text = "हिन्दी भाषा"
    assert [text[t.start : t.end] for t in analyzers.analyze(text, "xx")] == ["हिन्दी", "भाषा"]


@pytest.mark.parametrize("lang", ["ru", "ar", "no", "en", "xx"])
def test_numbers_and_latin_names_survive_in_any_language(lang: str) -> None:
    found = terms("ASEAN 2024 COVID-19", lang)
    assert "2024" in found and "19" in found
    assert any(t.startswith("asean") for t in found) and any(t.startswith("covid") for t in found)


# -- detection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("АСЕАН", "ru"),
        ("آسيان", "ar"),
        ("Президент Лаоса выразил поддержку укреплению отношений", "ru"),
        ("Utenriksministeren uttrykte sin dype takknemlighet for samarbeidet", "no"),
        ("The foreign minister expressed his gratitude", "en"),
        ("Der Außenminister drückte seinen Dank aus", "de"),
        ("وترأس المشاورة السياسية العاشرة لوزراء خارجية فيتنام", "ar"),
        ("Ο υπουργός Εξωτερικών εξέφρασε την ευγνωμοσύνη του", "el"),
        ("中华人民共和国外交部", "zh"),
        ("日本の外務大臣", "ja"),
        ("ภาษาไทยเป็นภาษาราชการ", "th"),
        ("विदेश मंत्री ने आभार व्यक्त किया", "hi"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert analyzers.detect_language(text) == lang


def test_detect_language_within_candidates() -> None:
    assert analyzers.detect_language("utenriksminister", candidates=["ru", "nb", "ar"]) == "no"


def test_only_the_scripts_default_language_gets_a_prior() -> None:
    # Without English among the candidates, German must not inherit English's prior.
    probabilities = dict(analyzers.detect.language_probabilities("Laos", candidates=["de", "es"]))
    unrestricted = dict(analyzers.detect.language_probabilities("Laos"))
    assert probabilities["de"] / probabilities["es"] == pytest.approx(unrestricted["de"] / unrestricted["es"])


def test_detect_language_of_text_without_letters_is_unknown() -> None:
    assert analyzers.detect_language("") == "xx"
    assert analyzers.detect_language("12345 !!!") == "xx"


def test_the_language_model_is_cached_uncompressed_and_a_damaged_cache_is_made_again(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    code = "import analyzers; print(analyzers.detect_language('Utenriksministeren uttrykte takknemlighet'))"
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    [cached] = list(tmp_path.glob("searchlib/langid-*"))
    assert {f.name for f in cached.iterdir()} >= {"ptc.npy", "nextmove.npy", "classes.npy"}
    (cached / "ptc.npy").write_bytes(b"\x93NUMPY broken")
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout == second.stdout == "no\n"
    assert (cached / "ptc.npy").stat().st_size > 1_000_000  # made again


def test_the_quick_check_for_unspaced_scripts_misses_none_of_their_letters() -> None:
    from analyzers import tokenizer

    pattern = tokenizer._UNSPACED
    missed = [
        hex(cp)
        for cp in range(0x0E00, 0x40000)
        if not 0xD800 <= cp <= 0xDFFF
        and pattern.match(chr(cp))
        and not tokenizer._MAYBE_UNSPACED.match(chr(cp))
    ]
    assert missed == []
    assert tokenizer.spaced_words("Вьентьян — столица Лаоса") == ["Вьентьян", "столица", "Лаоса"]
    assert tokenizer.spaced_words("Лаос 老挝") is None and tokenizer.spaced_words("“quoted” — ok…") == [
        "quoted",
        "ok",
    ]


def test_ascii_text_is_cut_into_words_as_the_unicode_pattern_cuts_it() -> None:
    """ASCII text takes the standard library's faster pattern; over every ASCII character,
    at every start, the words, spans, starts and runs are the ``regex`` pattern's."""
    import random

    from analyzers import tokenizer

    rng = random.Random(3)
    alphabet = [chr(code) for code in range(128)]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 70)))
        start = rng.randint(0, len(text))
        expected = [(m.group(), *m.span(), False) for m in tokenizer._TOKEN.finditer(text, start)]
        assert list(tokenizer.words(text, start)) == expected
        assert list(tokenizer.words(text)) == [
            (m.group(), *m.span(), False) for m in tokenizer._TOKEN.finditer(text)
        ]
        assert list(tokenizer.spans(text, spaced=True, start=start)) == [w[1:3] for w in expected]
        assert tokenizer.word_spans(text)[0] == [m.start() for m in tokenizer._WORD.finditer(text)]
        found = tokenizer._WORD.findall(text)
        assert tokenizer.segments(text) == ([(False, found)] if found else [], tokenizer.word_spans(text)[0])
        assert tokenizer.spaced_words(text) == tokenizer._WORD.findall(text)


def test_a_word_read_from_its_start_ends_where_reading_the_whole_text_ends_it() -> None:
    """Snippets read only their marked words, each from its start (``word_end``): over random
    mixes of Latin, Cyrillic, Devanagari with its marks, Thai and Han, every word and bigram
    ends where :func:`words` ends it, and with ``spaced`` where the text has no bigrams.
    Indexing's :func:`segments` gives the same words and bigrams, with their starts."""
    import random

    from analyzers import tokenizer

    rng = random.Random(5)
    pieces = [
        "Laos",
        "Лаоса",
        "नमस्ते",
        "ประเทศไทย",
        "北京",
        "中",
        "x",
        "9",
        " ",
        " ",
        ", ",
        "—",
        "é",
        "\u0301",
    ]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        spaced = not tokenizer.has_unspaced(text)
        for _, start, end, _ in tokenizer.words(text):
            assert tokenizer.word_end(text, start) == end, (text, start)
            if spaced:
                assert tokenizer.word_end(text, start, spaced=True) == end, (text, start)
        found = list(tokenizer.words(text))
        every = [start for _, start, _, _ in found] + [len(text) + 1]  # and a start that is no word's
        assert tokenizer.word_ends(text, every) == [end for _, _, end, _ in found] + [None], text
        if spaced:
            assert tokenizer.word_ends(text, every, spaced=True) == tokenizer.word_ends(text, every), text
        runs, starts = tokenizer.segments(text)
        made = [(token, bigrams) for bigrams, tokens in runs for token in tokens]
        assert made == [(surface, bigram) for surface, _, _, bigram in tokenizer.words(text)], text
        assert starts == [start for _, start, _, _ in tokenizer.words(text)] == tokenizer.word_spans(text)[0]
        assert all(a != b for (a, _), (b, _) in itertools.pairwise(runs)), "runs of one kind are joined"
    assert tokenizer.word_end("Laos and", 4) is None and tokenizer.word_end("Laos", 9) is None


def test_language_scores_computed_with_numpy_equal_py3langids() -> None:
    """The candidates' probabilities from the vectorized automaton walk are py3langid's own
    (renormalized among them), for texts of every script, short and long, upper case too."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from analyzers import detect

    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    texts = [path.read_text(encoding="utf-8")[:600] for path in sorted(SEEDS.iterdir())]
    texts += ["АСЕАН", "NATO", "Utenriksministeren uttrykte takknemlighet", "é", "ab", "", "!!"]
    texts += ["Вьентьян — столица Лаоса and Laos", "وزير الخارجية", "Ελλάδα", "hello WORLD " * 40]
    for text in texts:
        langs = (
            ["ru", "uk", "bg", "sr"]
            if detect.dominant_script(text) == "Cyrillic"
            else ["en", "de", "no", "sr"]
        )
        full = dict(reference.rank(text))
        expected = [full[lang] for lang in langs]
        got = detect._walker().likelihoods(text, langs)
        got = [got[lang] for lang in langs]
        if sum(expected) == 0:  # py3langid's softmax underflowed for all of them
            continue
        assert [e / sum(expected) for e in expected] == pytest.approx(
            [g / sum(got) for g in got], abs=1e-5
        ), text


def test_the_automaton_walked_byte_by_byte_finds_what_its_windows_find() -> None:
    """A short text is walked a byte at a time, a long one in windows of the trie's depth:
    the same features with the same counts, whatever the text (a query and a document agree)."""
    from analyzers import detect

    walker = detect._walker()
    texts = [path.read_text(encoding="utf-8")[:600] for path in sorted(SEEDS.iterdir())]
    texts += ["", "a", "ab", "NATO", "АСЕАН", "ทีม ASEAN", "東京タワー", "🙂 x " * 30, "\udc80"]
    for text in texts:
        data = text.encode("utf8", "surrogatepass")
        walked, windowed = walker._walked(data), walker._windowed(data)
        assert [part.tolist() for part in walked] == [part.tolist() for part in windowed], text
        assert [part.dtype for part in walked] == [part.dtype for part in windowed]
    assert any(len(text.encode("utf8")) > detect.WALK_BYTES for text in texts)  # both ways taken


def test_word_caches_hold_at_most_what_they_are_set_to_and_give_the_uncached_terms() -> None:
    """Each chain caches its words' terms; together the caches stay within the size set
    (the oldest words go), whatever the languages, and a term is the same cached or not."""
    from analyzers.chain import _CHAINS, WORD_CACHE_SIZE

    words = [f"Laos{n}" for n in range(300)] + ["Лаосом", "вьетнама", "the", "и"] * 5
    keys = ("en", "ru", "de")
    expected = {(key, word): analyzers.chain(key).uncached_term(word) for key in keys for word in words}
    analyzers.set_word_cache_size(64)
    try:
        for key in keys:
            chain = analyzers.chain(key)
            for _ in range(2):
                assert chain.terms(words) == [expected[key, word] or "" for word in words]
                assert [chain.term(word) for word in words] == [expected[key, word] for word in words]
                assert sum(len(made._cache) for made in _CHAINS) <= 64
        assert analyzers.chain("de")._cache  # the last language read keeps its latest words
    finally:
        analyzers.set_word_cache_size(WORD_CACHE_SIZE)
