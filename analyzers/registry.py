"""Which chain analyzes which language, built once and cached per word form."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from analyzers import arabic, generic, norwegian, russian, snowball
from analyzers.chain import Chain

ALIASES = {"nb": "no", "nob": "no", "iw": "he", "in": "id"}
GENERIC = "xx"
# Languages of unspaced scripts: the tokenizer makes their bigrams, the generic chain folds them.
_SEGMENTED = ("zh", "ja", "ko", "th")
_DEDICATED: dict[str, Callable[[], Chain]] = {
    **{lang: (lambda lang=lang: snowball.make(lang)) for lang in snowball.ALGORITHMS},
    "ru": russian.make,
    "ar": arabic.make,
    "no": norwegian.make,
    **{lang: generic.make for lang in _SEGMENTED},
}


def languages() -> list[str]:
    """Every language code with a dedicated analyzer (others use the generic one)."""
    return sorted(_DEDICATED)


def language_code(lang: str | None) -> str:
    """A language tag as a plain ISO 639-1 code: ``nb``→``no``, ``pt-BR``→``pt``."""
    code = (lang or "").strip().lower().replace("_", "-")
    base = code.split("-")[0]
    return ALIASES.get(code, ALIASES.get(base, base)) or GENERIC


def canonical(lang: str | None) -> str:
    """The analyzer a language is filed under: its code, or ``xx`` (generic) if none."""
    code = language_code(lang)
    return code if code in _DEDICATED else GENERIC


@cache
def chain(lang: str) -> Chain:
    """The analysis chain of an analyzer key from :func:`canonical`, built once."""
    return _DEDICATED.get(lang, generic.make)()
