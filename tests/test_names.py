"""Cross-script name keys (analyzers.names) on their own."""

from __future__ import annotations

import random

import pytest

from analyzers import words
from analyzers.names import name_tokens, query_name_keys, skeleton, transliterate


def keys(text: str, lang: str, every_word: bool = False) -> list[str]:
    return [t.term for t in name_tokens(text, lang, every_word)]


@pytest.mark.parametrize(
    ("text", "lang"),
    [("ASEAN", "en"), ("АСЕАН", "ru"), ("آسيان", "ar"), ("الآسيان", "ar")],
)
def test_asean_in_three_scripts_shares_a_key(text: str, lang: str) -> None:
    assert keys(text, lang) == ["asn"]


def test_laos_across_scripts_and_cases() -> None:
    assert keys("Laos", "no") == ["ls"]
    assert set(keys("Лаос Лаоса Лаосом", "ru")) == {"ls"}
    assert "ls" in keys("لاوس", "ar") and "ls" in keys("ولاوس", "ar")


def test_only_name_like_words_in_cased_scripts() -> None:
    assert keys("the ministers met in Vientiane", "en") == ["fntn"]
    assert keys("The", "en") == []  # a capitalized stopword is no name
    assert keys("vientiane", "en", every_word=True) == ["fntn"]


def test_arabic_stopwords_give_no_key() -> None:
    assert keys("في من على", "ar") == []


def test_offsets_point_at_the_name() -> None:
    text = "Председательство Лаоса в АСЕАН"
    tokens = name_tokens(text, "ru")
    assert [text[t.start : t.end] for t in tokens] == ["Председательство", "Лаоса", "АСЕАН"]


def test_transliteration_and_skeleton() -> None:
    assert transliterate("казахстан") == "kazakhstan"
    assert transliterate("αθήνα") == "athina"
    assert skeleton("kazakhstan") == skeleton(transliterate("كازاخستان")) == "kzkstn"
    assert skeleton("vietnam") == skeleton(transliterate("فيتنام")) == "ftnm"
    assert skeleton("") == ""


def test_name_candidates_keep_every_word_that_has_keys() -> None:
    """Snippets look for name keys only among ``name_candidates``: over the seeds' words in
    their own and other languages' chains (Cyrillic, Arabic, Latin, with digits and odd
    capitals mixed in), every word with keys is a candidate, and lowercase Latin and
    Cyrillic words are not."""
    from pathlib import Path

    from analyzers.names import name_candidates, word_keys
    from analyzers.tokenizer import words

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    found = [word for path in sorted(seeds.iterdir()) for word, *_ in words(path.read_text(encoding="utf-8"))]
    found += ["ǅemal", "Ⓐbc", "١٢٣", "नमस्ते", "ΑΘΗΝΑ", "élan", "Élan", "9Laos", "laos", "лаос"]
    for lang in ("ru", "ar", "no", "en", "hi", "el"):
        for chunk in (found[i : i + 50] for i in range(0, len(found), 50)):
            candidates = set(name_candidates(chunk))
            assert {word for word in chunk if word_keys(word, lang)} <= candidates, lang
    mixed = ["Laos", "laos", "лаос", "Лаос", "لاوس"]
    assert name_candidates(mixed) == ["Laos", "Лаос", "لاوس"]
    assert name_candidates(["Laos", "laos", "Лаос"]) == ["Laos", "Лаос"]


def test_a_capital_tells_the_first_letter_of_every_name_key_of_its_words() -> None:
    """What lets a snippet of a body found through its names skip the capitalized words
    whose keys cannot meet the query's (``names._key_letter``): over the capitalized words
    of the seeds and of a third of XQuAD's twelve languages, read by every chain, and odd
    capitals (ligatures, digraphs, soft signs, dotted I, final sigma), each word's keys
    start with its capital's letter, where one is given."""
    from pathlib import Path

    from analyzers import registry
    from analyzers.names import _key_letter, word_keys
    from analyzers.tokenizer import words
    from benchmarks.common import SHARED_DATA, read_jsonl

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    texts = [path.read_text(encoding="utf-8") for path in sorted(seeds.iterdir())]
    corpus = SHARED_DATA / "xquad" / "corpus.jsonl"
    if corpus.is_file():
        texts += [row["text"] for row in read_jsonl(corpus)[::3]]
    capitalized = sorted({word for text in texts for word, *_ in words(text) if word[:1].isupper()})
    odd = ["Ĳssel", "Ægir", "ΣΟΦΙΑ", "Σ", "Ьяна", "Ёлка", "Ångström", "Xavier", "ǅemal", "İstanbul", "Ⅻ"]
    odd += ["Ωmega", "Ŋa", "Þór", "Łódź", "Ǉubljana", "Йемен", "Юкон", "Ыб", "Ђорђе", "Calderón"]
    odd += ["Детей", "Людьми", "Шли"]  # Russian lemmas that start otherwise: ребёнок, человек, идти
    read = skipped = 0
    for lang in [*registry.languages(), "xx"]:
        for word in (capitalized if lang == "en" else capitalized[::4]) + odd:
            letter = _key_letter(word[0], lang)
            keys = word_keys(word, lang)
            if letter is not None:
                assert all(key[0] == letter for key in keys), (word, lang, letter, keys)
                skipped += 1
            read += 1
    assert skipped > read // 2  # the capital tells most words' letter


def test_a_query_word_starting_with_a_small_letter_has_no_name_key_when_capitals_are_about() -> None:
    """What lets a search skip the name keys of such a leaf (``query.name_keys_of``): in a
    query with capitals, a word that starts with a lowercase letter gives no key, whatever
    follows it (joiners, marks, letters of other scripts, Arabic ones among them)."""
    rng = random.Random(5)
    small = [chr(c) for c in range(0x3000) if chr(c).isalpha() and chr(c).islower()]
    rest = [*small, *(chr(c) for c in range(0x3000)), "\u200d", "\u00ad", "'", "’", "A", "Ж", "ب", "क"]
    checked = 0
    for _ in range(20_000):
        text = rng.choice(small) + "".join(rng.choice(rest) for _ in range(rng.randint(0, 4)))
        if len(list(words(text))) == 1:  # a word leaf holds one word
            assert query_name_keys(text, ["en"], lowercase=False) == [], text
            checked += 1
    assert checked > 5_000
