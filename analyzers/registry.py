"""Which chain analyzes which language, built once and cached per word form."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from functools import cache, lru_cache

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


@lru_cache(maxsize=1024)  # asked dozens of times a search, of a handful of tags
def language_code(lang: str | None) -> str:
    """A language tag as a plain ISO 639-1 code: ``nb``→``no``, ``pt-BR``→``pt``."""
    code = (lang or "").strip().lower().replace("_", "-")
    base = code.split("-")[0]
    return ALIASES.get(code, ALIASES.get(base, base)) or GENERIC


def canonical(lang: str | None) -> str:
    """The analyzer a language is filed under: its code, or ``xx`` (generic) if none."""
    code = language_code(lang)
    return code if code in _DEDICATED else GENERIC


# A chain that changed how it makes terms gets a new version; the old one stays, so that an
# index records the versions its terms were made by and keeps being read (and added to) with
# them. Version 1 of every language is the chain of searchlib 0.1.
VERSIONS = {"ar": 2}
DESCRIPTIONS = {("ar", 1): "light stems (searchlib 0.1)", ("ar", 2): "dictionary lemmas (arramooz)"}
_OLDER: dict[tuple[str, int], Callable[[], Chain]] = {("ar", 1): arabic.make_light}
_in_use: ContextVar[Mapping[str, int]] = ContextVar("chain_versions", default=VERSIONS)


def chain(lang: str) -> Chain:
    """The analysis chain of an analyzer key from :func:`canonical`, in the version
    :func:`using_versions` chose (the current one unless told), built once."""
    return _chain(lang, _in_use.get().get(lang, 1))


@cache
def _chain(lang: str, version: int) -> Chain:
    if version != VERSIONS.get(lang, 1) and (lang, version) in _OLDER:
        return _OLDER[(lang, version)]()
    return _DEDICATED.get(lang, generic.make)()


def known_version(lang: str, version: int) -> bool:
    return version == VERSIONS.get(lang, 1) or (lang, version) in _OLDER


@contextlib.contextmanager
def using_versions(versions: Mapping[str, int]) -> Iterator[None]:
    """Analyze with these chain versions (language → version; others current) inside the
    block, in this thread or task: how an index made by an older release is read."""
    token = _in_use.set({**VERSIONS, **versions})
    try:
        yield
    finally:
        _in_use.reset(token)
