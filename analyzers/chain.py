"""A language's analysis chain: fold a word, drop it if a stopword, else stem or lemmatize."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import attrs

WORD_CACHE_SIZE = 1 << 18


@attrs.frozen
class Chain:
    """Lucene-style per-language chain, applied word by word.

    ``term`` is cached on the surface form: running text repeats its words, so a
    cached lemmatizer costs a dictionary lookup per token.
    """

    fold: Callable[[str], str]
    stem: Callable[[str], str]
    stop: frozenset[str] = frozenset()
    term: Callable[[str], str | None] = attrs.field(init=False)

    @term.default
    def _cached_term(self) -> Callable[[str], str | None]:
        fold, stem, stop = self.fold, self.stem, self.stop

        def term(word: str) -> str | None:
            folded = fold(word)
            # A "word" of joiners or soft hyphens alone folds to nothing.
            return None if not folded or folded in stop else stem(folded) or None

        return lru_cache(maxsize=WORD_CACHE_SIZE)(term)
