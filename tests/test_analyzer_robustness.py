"""Bad and odd input never raises, and offsets always point into the text."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import analyzers
from analyzers.names import name_tokens
from analyzers.tokenizer import word_spans, words

LANGS = ["ru", "ar", "no", "en", "tr", "el", "hi", "zh", "th", "xx"]


def assert_valid(text: str, lang: str) -> None:
    previous = -1
    for token in analyzers.analyze(text, lang):
        assert 0 <= token.start < token.end <= len(text)
        assert token.term
        assert token.position >= previous
        previous = token.position


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  ",
        "Москва ASEAN آسيان 中文 ไทย हिन्दी",
        "a\u200db\u200cc",
        "\u200fمرحبا\u200e hello \u202ehello",
        "e\u0301e\u0301\u0301\u0301",
        "\ud800 lone \udfff surrogates",
        "\u0301\u0301 leading marks",
        "\ufeffBOM inside",
        "x" * 1000,
    ],
)
@pytest.mark.parametrize("lang", LANGS)
def test_odd_input(text: str, lang: str) -> None:
    assert_valid(text, lang)


def test_ten_megabyte_string() -> None:
    text = "Президент Лаоса выразил поддержку ASEAN 2024. " * 220_000
    assert len(text) > 10_000_000
    tokens = analyzers.analyze(text, "ru")
    assert len(tokens) == 6 * 220_000
    assert text[tokens[-1].start : tokens[-1].end] == "2024"


@settings(max_examples=300, deadline=None)
@given(text=st.text(), lang=st.sampled_from(LANGS))
def test_any_unicode(text: str, lang: str) -> None:
    assert_valid(text, lang)


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_detect_language_any_unicode(text: str) -> None:
    assert isinstance(analyzers.detect_language(text), str)


MIXED = st.text(
    alphabet=st.sampled_from(
        list("Москва АСЕАН ASEAN Laos آسيان والقاهرة 中文東京 ไทยที่นี่ हिन्दी e\u0301 .,\n")
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), MIXED), lang=st.sampled_from(LANGS))
def test_index_terms_are_what_analysis_and_name_keys_give(text: str, lang: str) -> None:
    """Indexing analyzes in one pass; queries and highlighting use analyze and name_tokens."""
    positions, names = analyzers.index_terms(text, lang)
    expected: dict[str, list[int]] = {}
    for token in analyzers.analyze(text, lang):
        expected.setdefault(token.term, []).append(token.position)
    assert positions == expected
    assert names == Counter(token.term for token in name_tokens(text, lang))
    # A body's words are cut once for its terms and its word starts (kept for snippets).
    assert analyzers.index_terms_and_starts(text, lang) == (positions, names, *word_spans(text))
    # and where each ends (snippets read no word to find it)
    assert list(zip(*word_spans(text), strict=True)) == [(start, end) for _, start, end, _ in words(text)]
