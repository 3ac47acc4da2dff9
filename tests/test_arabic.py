"""Arabic read by dictionary lemmas (issue 22), and indexes that keep the chain they were made by."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import AR_ARTICLE, searchlib_command

import analyzers
import searchlib
from analyzers import arabic, arabic_lemmas, arabic_lexicon
from analyzers.chain import WORD_CACHE_SIZE
from searchlib import Document

FIXTURE_0_1 = Path(__file__).parent / "fixtures" / "index-0.1.0"


def terms(text: str) -> list[str]:
    return [t.term for t in analyzers.analyze(text, "ar")]


@pytest.mark.parametrize(
    "forms",
    [
        ("وزير", "الوزراء", "والوزراء", "للوزراء"),  # broken plural, article, conjunction, preposition
        ("كتاب", "الكتب", "كتبها"),  # broken plural, pronoun
        ("يوم", "الأيام", "أيامنا"),
        ("كتبت", "كتبوا", "يكتبون", "سيكتب"),  # a sound verb: past, present, future
        ("قال", "قالت", "يقول", "قلت", "وقالت"),  # hollow: the middle letter comes and goes
        ("وصل", "يصل", "وصلت"),  # assimilated: و drops in the present
        ("نشر", "نشرتها"),  # verb + object pronoun
        ("جديد", "الجديدة", "جديدة"),  # feminine of an adjective
        ("عملية", "عمليات", "عمليته"),  # ة plural; ة written ت before a pronoun
        ("أمريكي", "الأمريكية", "الأمريكيين"),  # nisba adjective
    ],
)
def test_forms_of_one_word_share_one_term(forms: tuple[str, ...]) -> None:
    found = {form: terms(form) for form in forms}
    assert len({tuple(t) for t in found.values()}) == 1, found
    assert all(len(t) == 1 for t in found.values()), found


def test_different_words_keep_different_terms() -> None:
    words = ["وزير", "وزارة", "زار", "كتاب", "مكتب", "قال", "قول", "عمل", "عامل", "جديد", "وصل", "صلاة"]
    assert len({tuple(terms(w)) for w in words}) == len(words)


def test_a_first_letter_is_not_taken_for_a_clitic_when_the_dictionary_knows_the_word() -> None:
    # و, ف, ب, ل, ك begin many stems: وزير is "minister", never و + زير.
    for word in ("وزير", "وطن", "فيلم", "بحر", "لغة", "كتاب"):
        assert terms(word)[0] == arabic.normalize(word), word


def test_function_words_under_clitics_are_dropped_like_stopwords() -> None:
    assert terms("لديهم بأنه وهو عليها سيكون كانت") == []
    assert terms("قالت الوزيرة إنها") == terms("قالت الوزيرة")


def test_names_the_dictionary_does_not_know_are_not_read_as_clitics_on_rare_words() -> None:
    # فيتنام could be ف + يتنام "and it grows": a reading cut at the front must be likely.
    for name in ("فيتنام", "أوباما", "ترامب", "بوتين", "كوريا", "تشرين"):
        assert terms(name) == [arabic.light_stem(arabic.normalize(name))], name
    assert terms("فيتنام") == ["فيتنام"]


def test_teh_marbuta_typed_as_heh_still_meets_it() -> None:
    assert terms("مشاوره") == terms("مشاورة")
    assert terms("السياسه") == terms("السياسة")


def test_unknown_words_fall_back_to_light_stems() -> None:
    assert arabic_lemmas.lemma(arabic_lexicon.spelling("زززق")) is None
    assert terms("والزززقات") == [arabic.light_stem(arabic.normalize("والزززقات"))]


def test_verb_stems_follow_the_verb_classes() -> None:
    hollow = arabic_lexicon.verb_stems("قال", "قول", "ضمة", True)
    assert {"قول", "قل"} <= hollow.present and "قل" in hollow.past_bound and "قيل" in hollow.past
    defective = arabic_lexicon.verb_stems("رمي", "رمي", "كسرة", True)
    assert {"رمي", "رم"} <= defective.present
    derived = arabic_lexicon.verb_stems("استطاع", "طوع", "فتحة", False)
    assert {"ستطاع", "ستطيع"} <= derived.present and "استطع" in derived.past_bound


def test_the_word_cache_bounds_the_stem_cache_too() -> None:
    analyzers.set_word_cache_size(16)
    try:
        for word in ("والكتاب", "بالكتاب", "كتابه", "الكتاب") * 10:
            terms(word)
        assert arabic_lemmas._core_readings.cache_info().maxsize == 16
    finally:
        analyzers.set_word_cache_size(WORD_CACHE_SIZE)


# -- indexes keep the chain that made their terms -----------------------------------------

MINISTERS = Document(id="ministers", title="", body="اجتمع الوزراء في العاصمة", lang="ar")
MINISTER = Document(id="minister", title="", body="قال الوزير إن الاجتماع كان مثمرا", lang="ar")


def test_a_new_index_records_the_current_chains_and_searches_by_lemma(tmp_path: Path) -> None:
    with searchlib.Index.create(tmp_path / "index") as index:
        index.add([MINISTERS, MINISTER])
    with searchlib.Index.open(tmp_path / "index") as index:
        assert index.chain_versions == analyzers.VERSIONS == {"ar": 2}
        assert {h.id for h in index.search("وزير")} == {"ministers", "minister"}
        snippets = {h.id: h.snippet for h in index.search("وزير")}
        assert "<em>الوزراء</em>" in snippets["ministers"]


def test_an_index_made_with_light_stems_is_read_and_added_to_with_them(tmp_path: Path) -> None:
    with searchlib.Index.create(tmp_path / "index", chain_versions={"ar": 1}) as index:
        index.add([MINISTERS])
        index.add([MINISTER], jobs=2)  # worker processes read the version from the index too
    with searchlib.Index.open(tmp_path / "index") as index:
        assert index.chain_versions == {"ar": 1}
        # Light stems: الوزراء and الوزير stay apart, in the documents and in the query.
        assert [h.id for h in index.search("الوزراء")] == ["ministers"]
        assert [h.id for h in index.search("الوزير")] == ["minister"]
    assert analyzers.chain("ar") is not arabic.make_light()  # the process's own choice is unchanged
    assert terms("الوزراء") == terms("وزير")


def test_the_index_of_searchlib_0_1_keeps_its_arabic_light_stems(tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(FIXTURE_0_1, copy)
    with searchlib.Index.open(copy) as index:
        assert index.chain_versions == {"ar": 1}
        # The seeds' Arabic article says الوزراء; 0.1 indexed the light stem وزراء, which a
        # query read by lemmas (وزير) would miss.
        assert AR_ARTICLE.removesuffix(".txt") in [h.id for h in index.search("الوزراء", lang="ar")]
        index.add([Document(id="new", title="", body="زار الوزراء المدينة", lang="ar")])
        assert "new" in [h.id for h in index.search("الوزراء", lang="ar")]
    with searchlib.Index.open(copy) as index:
        assert index.chain_versions == {"ar": 1}


def test_an_unknown_chain_version_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(searchlib.SearchlibError, match="no chain 'ar' version 9"):
        searchlib.Index.create(tmp_path / "index", chain_versions={"ar": 9})
    assert not (tmp_path / "index").exists()


def test_stats_say_which_arabic_chain_an_index_uses(tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(FIXTURE_0_1, copy)
    out = subprocess.run(searchlib_command("stats", "--index", str(copy)), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "Arabic: light stems (searchlib 0.1)" in out.stdout


def test_the_lexicon_is_cached_on_disk_and_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    code = "import analyzers; print(analyzers.analyze('والوزراء', 'ar')[0].term)"
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    [saved] = list(tmp_path.glob("searchlib/arabic-lexicon-*.json"))
    loaded = arabic_lexicon._from_json(json.loads(saved.read_text(encoding="utf-8")))
    assert loaded == arabic_lexicon.build_lexicon()
    saved.write_text('{"nouns": ', encoding="utf-8")  # a write cut short by a crash
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout == second.stdout == "وزير\n"
    assert json.loads(saved.read_text(encoding="utf-8"))["nouns"]["وزراء"] == "وزير"
