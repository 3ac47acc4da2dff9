"""Cross-script name keys (analyzers.names) on their own."""

from __future__ import annotations

import pytest

from analyzers.names import name_tokens, skeleton, transliterate


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
