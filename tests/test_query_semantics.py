"""The query language as users meet it: filters restrict and never score, boolean logic over
documents, dates by period, names across scripts with precision, Arabic و, Han-script queries.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import AR_ARTICLE, NO_ARTICLE, RU_ASEAN, RU_MFA, RU_SENATE

import analyzers
import searchlib
from searchlib import syntax
from searchlib.highlight import snippet
from searchlib.syntax import And, Match, Maybe, Not, Or, Period, Words


def ids(index: searchlib.Index, text: str, **options) -> list[str]:
    return [h.id for h in index.search(text, limit=50, **options)]


# -- the grammar -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("laos", Words("laos")),
        ("laos vientiane", Or((Words("laos"), Words("vientiane")))),
        ("lang:ru NOT Казахстан", And((Match("lang", "ru"), Not(Words("Казахстан"))))),
        ("lang:ru OR lang:no", Or((Match("lang", "ru"), Match("lang", "no")))),
        ("lang:ru lang:en", And((Match("lang", "ru"), Match("lang", "en")))),
        ("laos lang:nb", And((Match("lang", "no"), Words("laos")))),
        ("a -b", And((Words("a"), Not(Words("b"))))),
        ("+a b", Maybe(Words("a"), Words("b"))),
        ("a AND b OR c", Or((And((Words("a"), Words("b"))), Words("c")))),
        ("a b AND c", Maybe(And((Words("b"), Words("c"))), Words("a"))),
        ("a AND NOT b", And((Words("a"), Not(Words("b"))))),
        ("(a OR b) AND lang:ru", And((Or((Words("a"), Words("b"))), Match("lang", "ru")))),
        ('"a b"~2', Words("a b", None, "phrase", 2)),
        ('title:"a b"', Words("a b", "title", "phrase")),
        ("лаос*", Words("лаос", None, "prefix")),
        ("id:12", Match("id", "12")),
        ("note:this", Or((Words("note"), Words("this")))),  # not a field: searched as words
        ("Vietnam-Laos", Or((Words("Vietnam"), Words("Laos")))),
        ('"unbalanced quote', Or((Words("unbalanced"), Words("quote")))),  # a lone quote is punctuation
        ("NOT", None),
        ("AND OR", None),
        ("", None),
    ],
)
def test_grammar(text: str, tree) -> None:
    assert syntax.parse(text) == tree


def test_plain_words_parse_as_the_full_grammar_parses_them() -> None:
    """Bare words skip the parser (most queries are): the tree must be the parser's, for
    text with and without syntax in it, so a syntax character the quick check missed fails."""
    import random

    rng = random.Random(7)
    pieces = ["a", "Laos", "AND", "OR", "NOT", "and", "-x", "+y", "z*", '"p q"~2', "(", ")", "title:x"]
    pieces += [
        "lang:ru",
        "Москва",
        "ไทยลาว",
        "-",
        "+",
        "*",
        ":",
        "Vietnam-Laos",
        "x\x00y",
        "\u3000",
        "АСЕАН?",
    ]
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))) for _ in range(5000)]
    plain = 0
    for text in texts:
        cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
        assert syntax.parse(text) == syntax._Parser(syntax._lex(cleaned, syntax.BUILTIN_KINDS)).parse(), text
        plain += syntax._plain(cleaned, cleaned.split())
    assert 200 < plain < 4000  # both paths were taken


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2024", datetime(2024, 1, 1), datetime(2025, 1, 1)),
        ("2024-11", datetime(2024, 11, 1), datetime(2024, 12, 1)),
        ("2024-12", datetime(2024, 12, 1), datetime(2025, 1, 1)),
        ("2024-02-29", datetime(2024, 2, 29), datetime(2024, 3, 1)),
        ("<2024", None, datetime(2024, 1, 1)),
        (">2024", datetime(2025, 1, 1), None),
        ("<=2024", None, datetime(2025, 1, 1)),
        (">=2024-06", datetime(2024, 6, 1), None),
        ("[2024-01 TO 2024-06]", datetime(2024, 1, 1), datetime(2024, 7, 1)),
        ("{2023 TO 2025}", datetime(2024, 1, 1), datetime(2025, 1, 1)),
        ("[2024-03 TO *]", datetime(2024, 3, 1), None),
    ],
)
def test_dates_name_periods(value: str, start, end) -> None:
    assert syntax.parse(f"date:{value}") == Period("date", start, end)


@pytest.mark.parametrize("value", ["yesterday", "2024-13", "2024-02-30", "[2024 TO]"])
def test_a_bad_date_is_a_query_error(value: str) -> None:
    with pytest.raises(searchlib.QueryError, match="date"):
        syntax.parse(f"date:{value}")


def test_nesting_is_bounded() -> None:
    with pytest.raises(searchlib.QueryError, match="nests"):
        syntax.parse("(" * 100 + "a" + ")" * 100)
    assert syntax.parse("NOT " * 5 + "a") is not None


def test_parsing_is_linear_on_a_huge_word() -> None:
    assert syntax.parse("a" * 200_000) == Words("a" * 200_000)


# -- filters on the seeds --------------------------------------------------------------


def test_a_filter_with_not_restricts(seed_index) -> None:
    # Every Russian seed mentions Казахстан: nothing is left, and nothing else leaks in.
    assert ids(seed_index, "lang:ru NOT Казахстан") == []
    assert set(ids(seed_index, "lang:ru NOT Лаос")) == {RU_SENATE, RU_MFA}
    assert set(ids(seed_index, "NOT lang:ru")) == {NO_ARTICLE, AR_ARTICLE}


def test_filters_combine_as_boolean_logic(seed_index) -> None:
    assert set(ids(seed_index, "lang:ru OR lang:no")) == {RU_ASEAN, RU_MFA, RU_SENATE, NO_ARTICLE}
    assert ids(seed_index, "lang:ru lang:no") == []  # juxtaposed filters all hold
    assert set(ids(seed_index, "Laos (lang:no OR lang:ar)")) == {NO_ARTICLE, AR_ARTICLE}


def test_a_filter_never_changes_a_score(seed_index) -> None:
    plain = {h.id: h.score for h in seed_index.search("Казахстан")}
    filtered = seed_index.search("Казахстан lang:ru")
    assert filtered and all(h.score == plain[h.id] for h in filtered)
    assert {h.score for h in seed_index.search("lang:ru")} == {0.0}


def test_filters_alone_list_documents_newest_first_then_by_id(seed_index) -> None:
    hits = seed_index.search("lang:ru")
    assert [h.id for h in hits] == [RU_ASEAN, RU_MFA, RU_SENATE]  # only 000 is dated
    assert hits[0].date == datetime(2024, 11, 22, 13, 11, 27)


def test_no_document_is_listed_twice(seed_index) -> None:
    for text in ["lang:ru NOT Казахстан", "Laos OR Лаос OR لاوس", "NOT x", "Laos Laos Laos"]:
        found = ids(seed_index, text)
        assert len(found) == len(set(found)), text


def test_date_periods(seed_index) -> None:
    assert ids(seed_index, "date:2024") == [RU_ASEAN]
    assert ids(seed_index, "date:2024-11-22") == [RU_ASEAN]
    assert ids(seed_index, "date:<2024") == []
    assert ids(seed_index, "date:>2024") == []
    assert ids(seed_index, "date:<2024-11-22") == []
    assert ids(seed_index, "date:>=2024-11") == [RU_ASEAN]
    assert ids(seed_index, "date:{2024-11-21 TO 2024-11-23}") == [RU_ASEAN]
    assert ids(seed_index, "date:{2024-11-22 TO 2024-11-23}") == []


def test_dates_before_and_after_exclude_the_period_itself(empty_index) -> None:
    empty_index.add(
        [
            searchlib.Document(
                id="a", title="t", body="river", lang="en", date=datetime(2023, 12, 31, 23, 59)
            ),
            searchlib.Document(id="b", title="t", body="river", lang="en", date=datetime(2024, 10, 9)),
            searchlib.Document(id="c", title="t", body="river", lang="en", date=datetime(2025, 1, 1)),
        ]
    )
    assert ids(empty_index, "river date:<2024") == ["a"]
    assert ids(empty_index, "river date:>2024") == ["c"]
    assert ids(empty_index, "river date:2024") == ["b"]
    assert ids(empty_index, "river date:[2024-01 TO 2024-06]") == []
    assert ids(empty_index, "date:[2023 TO 2024]") == ["b", "a"]  # newest first


def test_an_unknown_field_is_searched_as_words(seed_index) -> None:
    assert ids(seed_index, "nofield:Ашимбаев") == ids(seed_index, "nofield Ашимбаев") == [RU_SENATE]


# -- names across scripts ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["car", "hello", "x", "school", "city", '"minister foreign"'])
def test_common_words_do_not_match_names_in_other_scripts(seed_index, text: str) -> None:
    assert ids(seed_index, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Jordan", {RU_MFA}), ("Korea", {RU_SENATE}), ("Laos", {NO_ARTICLE, RU_ASEAN, AR_ARTICLE})],
)
def test_names_match_across_scripts(seed_index, text: str, expected: set[str]) -> None:
    assert expected <= set(ids(seed_index, text))


def test_name_hits_are_scored_alike_whether_or_not_the_query_language_has_hits(seed_index) -> None:
    beside = {h.id: h.score for h in seed_index.search("Laos", lang="no")}  # the Norwegian hit leads
    alone = {h.id: h.score for h in seed_index.search("Laos NOT lang:no", lang="no")}  # name hits only
    assert NO_ARTICLE in beside and NO_ARTICLE not in alone
    assert alone[RU_ASEAN] == beside[RU_ASEAN] and alone[AR_ARTICLE] == beside[AR_ARTICLE]
    assert beside[NO_ARTICLE] > beside[RU_ASEAN]


# -- Arabic, Han, snippets -----------------------------------------------------------------


@pytest.mark.parametrize("word", ["وزير", "الوزير", "للوزير", "والوزير", "ووزير", "وزيرة"])
def test_arabic_waw_of_a_stem_is_kept(word: str) -> None:
    assert [t.term for t in analyzers.analyze(word, "ar")] == ["وزير"]


@pytest.mark.parametrize("word", ["وطن", "بلد", "كتاب", "فلسطين", "لبنان"])
def test_arabic_bare_and_definite_forms_conflate(word: str) -> None:
    assert analyzers.analyze(word, "ar")[0].term == analyzers.analyze("ال" + word, "ar")[0].term


def test_arabic_minister_finds_the_same_documents_in_any_form(seed_index) -> None:
    assert AR_ARTICLE in ids(seed_index, "وزير") and ids(seed_index, "الوزير") == ids(seed_index, "وزير")


def test_a_kanji_query_finds_japanese_and_chinese_documents(empty_index) -> None:
    empty_index.add(
        [
            searchlib.Document(id="ja", title="お知らせ", body="市の図書館は月曜日に休みます。"),
            searchlib.Document(id="zh", title="新闻", body="市图书馆开放了新馆。"),
            searchlib.Document(id="en", title="News", body="The library opened."),
        ]
    )
    assert empty_index.language_counts() == {"ja": 1, "zh": 1, "en": 1}
    assert ids(empty_index, "図書館") == ["ja"]
    assert ids(empty_index, "图书馆") == ["zh"]


def test_overlapping_bigram_matches_are_one_highlight() -> None:
    assert snippet("市图书馆开放了新馆", "zh", {"图书", "书馆"}) == "市<em>图书馆</em>开放了新馆"


def test_a_huge_phrase_slop_is_bounded_not_an_error(seed_index) -> None:
    assert syntax.parse('"a b"~' + "9" * 5000) == Words("a b", None, "phrase", syntax.MAX_SLOP)
    assert ids(seed_index, '"Лаос Казахстан"~' + "9" * 5000) == [RU_ASEAN]
