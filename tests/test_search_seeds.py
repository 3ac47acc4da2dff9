"""Searching the bundled seeds: the acceptance queries of the project, on a real index."""

from __future__ import annotations

import pytest
from conftest import AR_ARTICLE, NO_ARTICLE, RU_ASEAN, RU_MFA, RU_SENATE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchlib


def ids(index: searchlib.Index, text: str, **kwargs) -> list[str]:
    return [hit.id for hit in index.search(text, **kwargs)]


def test_seeds_are_indexed_with_their_languages(seed_index: searchlib.Index) -> None:
    assert len(seed_index) == 5
    assert seed_index.language_counts() == {"ru": 3, "no": 1, "ar": 1}


def test_asean_finds_the_russian_article_first_with_the_word_highlighted(seed_index) -> None:
    hits = seed_index.search("АСЕАН")
    assert hits[0].id == RU_ASEAN
    assert "<em>АСЕАН</em>" in hits[0].snippet
    assert hits[0].lang == "ru"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ашимбаеву", RU_SENATE),
        ("прямое авиасообщение с Иорданией", RU_MFA),
        ("naturkatastrofe", NO_ARTICLE),
        ("المشاورة السياسية", AR_ARTICLE),
        ("Тхонглун", RU_ASEAN),
        ("лаосских", RU_ASEAN),
    ],
)
def test_inflected_queries_find_their_documents(seed_index, text: str, expected: str) -> None:
    assert ids(seed_index, text)[0] == expected


def test_arabic_query_with_diacritics_ranks_the_same(seed_index) -> None:
    plain = seed_index.search("المشاورة السياسية")
    vocalized = seed_index.search("الْمُشَاوَرَةُ السِّيَاسِيَّةُ")
    assert [(h.id, h.score) for h in plain] == [(h.id, h.score) for h in vocalized]


def test_phrase_query(seed_index) -> None:
    assert ids(seed_index, '"казахско-лаосских отношений"') == [RU_ASEAN]
    assert ids(seed_index, '"отношений казахско-лаосских"') == []


def test_phrase_across_a_dropped_stopword(seed_index) -> None:
    # "в" is a stopword, yet the phrase must still match where it stood.
    assert RU_ASEAN in ids(seed_index, '"председательство Лаоса в АСЕАН"')


def test_boolean_operators(seed_index) -> None:
    both = ids(seed_index, "Лаос AND Казахстан")
    assert RU_ASEAN in both and RU_SENATE not in both
    assert RU_ASEAN not in ids(seed_index, "Казахстан NOT Лаос")


def test_field_and_language_filters(seed_index) -> None:
    assert ids(seed_index, "title:Ашимбаев") == [RU_SENATE]
    assert ids(seed_index, "Laos lang:nb") == [NO_ARTICLE]
    assert ids(seed_index, "Laos lang:ru", cross_script=False) == []
    # Cross-script, the filter still holds: Russian articles that name Laos (Лаос).
    assert RU_ASEAN in ids(seed_index, "Laos lang:ru")
    assert {h.lang for h in seed_index.search("Laos lang:ru")} == {"ru"}


def test_date_range(seed_index) -> None:
    assert ids(seed_index, "Лаос date:[2024-11-01 TO 2024-11-30]") == [RU_ASEAN]
    assert ids(seed_index, "Лаос date:[2020-01-01 TO 2020-12-31]") == []


def test_prefix_query(seed_index) -> None:
    assert RU_ASEAN in ids(seed_index, "Лаос*")


def test_language_given(seed_index) -> None:
    assert ids(seed_index, "Laos", lang="nb", cross_script=False) == [NO_ARTICLE]
    assert ids(seed_index, "Laos", lang="nb")[0] == NO_ARTICLE


def test_stored_fields_come_back(seed_index) -> None:
    hit = seed_index.search("naturkatastrofe")[0]
    assert hit.source.startswith("https://baoquocte.vn/")
    top = seed_index.search("Тхонглун")[0]
    assert top.date is not None and top.date.year == 2024
    assert top.title.startswith("Президент Лаоса")


def test_limit(seed_index) -> None:
    assert len(seed_index.search("Казахстан", limit=1)) == 1


@pytest.mark.parametrize(
    "text",
    [
        '"unbalanced quote',
        "((unbalanced",
        "AND",
        "OR NOT",
        "nofield:Лаос",
        "*аос",
        "?аос",
        "\x00\x01 Лаос \x1b[31m",
        "\u200fАСЕАН\u200e",
        "",
        "   ",
        "date:[garbage TO 2024]",
    ],
)
def test_malformed_queries_run_or_raise_query_error(seed_index, text: str) -> None:
    try:
        hits = seed_index.search(text)
    except searchlib.QueryError as error:
        assert str(error)
    else:
        assert isinstance(hits, list)


def test_ten_thousand_word_query_is_refused_clearly(seed_index) -> None:
    with pytest.raises(searchlib.QueryError, match="words"):
        seed_index.search("Лаос " * 10_000)


def test_bad_limit(seed_index) -> None:
    with pytest.raises(searchlib.QueryError):
        seed_index.search("Лаос", limit=0)


# -- cross-script names --------------------------------------------------------------


def test_asean_finds_its_russian_norwegian_and_arabic_spellings(seed_index) -> None:
    hits = seed_index.search("АСЕАН")
    assert [h.id for h in hits[:3]] == [
        RU_ASEAN,
        *sorted([AR_ARTICLE, NO_ARTICLE], key=[h.id for h in hits].index),
    ]
    assert {h.lang for h in hits[:3]} == {"ru", "no", "ar"}
    by_id = {h.id: h for h in hits}
    assert "<em>ASEAN</em>" in by_id[NO_ARTICLE].snippet
    assert "<em>آسيان</em>" in by_id[AR_ARTICLE].snippet
    # A name hit weighs about names_weight (0.10) of what the query weighs in its own language.
    for other in (NO_ARTICLE, AR_ARTICLE):
        assert 0.05 < by_id[other].score / hits[0].score < 0.2


def test_laos_finds_every_article_that_mentions_it(seed_index) -> None:
    found = ids(seed_index, "Laos")
    assert found[0] == NO_ARTICLE
    assert {RU_ASEAN, AR_ARTICLE} <= set(found)


def test_cross_script_can_be_turned_off(seed_index) -> None:
    assert ids(seed_index, "АСЕАН", cross_script=False) == [RU_ASEAN]


def test_cross_script_hits_rank_below_same_language_hits(seed_index) -> None:
    hits = seed_index.search("Лаос")
    russian = [h.score for h in hits if h.lang == "ru"]
    others = [h.score for h in hits if h.lang != "ru"]
    assert others and max(others) < max(russian)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_query_runs_or_raises_query_error(seed_index, text: str) -> None:
    try:
        hits = seed_index.search(text)
    except searchlib.QueryError:
        return
    assert all(isinstance(h, searchlib.Hit) for h in hits)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(
        st.sampled_from(
            [
                '"',
                "(",
                ")",
                "AND",
                "OR",
                "NOT",
                "*",
                "title:",
                "lang:",
                "date:[",
                " TO ",
                "]",
                "Лаос",
                "ASEAN",
                "آسيان",
                "2024",
                ":",
                "\u200f",
            ]
        ),
        max_size=12,
    )
)
def test_query_syntax_soup_runs_or_raises_query_error(seed_index, words: list[str]) -> None:
    try:
        hits = seed_index.search(" ".join(words))
    except searchlib.QueryError as error:
        assert str(error)
    else:
        assert isinstance(hits, list)
