"""Adapt :mod:`analyzers` to Whoosh's analyzer protocol.

Whoosh pickles the schema, analyzers included, into the index's table of contents.
:class:`LanguageAnalyzer` pickles as its language code only and rebuilds its chain
on load, so pymorphy3 and PyStemmer objects never enter the index and any version
of searchlib can open an index another wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Analyzer, Token

import analyzers


class LanguageAnalyzer(Analyzer):
    """One language's analyzer from :mod:`analyzers`, as Whoosh calls it."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (LanguageAnalyzer, (self.lang,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LanguageAnalyzer) and other.lang == self.lang

    def __hash__(self) -> int:
        return hash(self.lang)

    def __repr__(self) -> str:
        return f"LanguageAnalyzer({self.lang!r})"

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for found in analyzers.analyze(value, self.lang):
            token.text = found.term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[found.start : found.end]
            if positions:
                token.pos = start_pos + found.position
            if chars:
                token.startchar = start_char + found.start
                token.endchar = start_char + found.end
            yield token
