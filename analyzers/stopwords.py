"""Stopword lists, kept as data files in ``stopwords/<lang>.txt`` (one word a line)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources


@cache
def stopwords(lang: str, normalize: Callable[[str], str] | None = None) -> frozenset[str]:
    """The language's stopwords, passed through ``normalize`` so they compare to terms."""
    source = resources.files(__package__).joinpath("stopwords", f"{lang}.txt")
    if not source.is_file():
        return frozenset()
    words = (line.strip() for line in source.read_text(encoding="utf-8").splitlines())
    return frozenset((normalize or str)(w) for w in words if w and not w.startswith("#"))
