"""A language's analysis chain: fold a word, drop it if a stopword, else stem or lemmatize."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache, partial

import attrs

WORD_CACHE_SIZE = 1 << 18  # word forms, all languages together, unless set otherwise

_CHAINS: list[Chain] = []  # every chain made, by the number its cache entries carry


@attrs.frozen
class Chain:
    """Lucene-style per-language chain, applied word by word.

    ``term`` is cached on the surface form: running text repeats its words, so a cached
    lemmatizer costs a dictionary lookup per token. One cache serves every chain, so that
    its size (:func:`set_word_cache_size`) bounds its memory however many languages a
    corpus has.
    """

    fold: Callable[[str], str]
    stem: Callable[[str], str]
    stop: frozenset[str] = frozenset()
    number: int = attrs.field(init=False)  # its entries' key in the shared cache
    term: Callable[[str], str | None] = attrs.field(init=False)

    @number.default
    def _register(self) -> int:
        _CHAINS.append(self)
        return len(_CHAINS) - 1

    @term.default
    def _cached_term(self) -> Callable[[str], str | None]:
        number = self.number
        return lambda word: _cached_term(number, word)

    def terms(self, words: Iterable[str]) -> list[str | None]:
        """:attr:`term` of each word, looked up without a Python call per word (``map`` of a
        ``partial`` of the cache, both in C): a snippet reads hundreds of words a search."""
        return list(map(partial(_cached_term, self.number), words))

    def uncached_term(self, word: str) -> str | None:
        folded = self.fold(word)
        # A "word" of joiners or soft hyphens alone folds to nothing.
        return None if not folded or folded in self.stop else self.stem(folded) or None


def _term(number: int, word: str) -> str | None:
    return _CHAINS[number].uncached_term(word)


def numbered_chain(number: int) -> Chain:
    """The chain made ``number``-th (:attr:`Chain.number`)."""
    return _CHAINS[number]


_cached_term = lru_cache(maxsize=WORD_CACHE_SIZE)(_term)
_resized: list[Callable[[int], None]] = []  # other caches of word forms, to size alike


def set_word_cache_size(entries: int) -> None:
    """Keep at most ``entries`` word forms in each of the analyzers' caches (emptied if
    the size changes). Indexing sets it from its memory setting."""
    global _cached_term
    if _cached_term.cache_parameters()["maxsize"] == entries:
        return
    _cached_term = lru_cache(maxsize=entries)(_term)
    for resize in _resized:
        resize(entries)


def clear_word_caches() -> None:
    """Forget every cached word form (benchmarks measure cold analysis with this)."""
    _cached_term.cache_clear()
    for resize in _resized:
        resize(_cached_term.cache_parameters()["maxsize"])


def resized_with_the_word_cache(resize: Callable[[int], None]) -> None:
    """Register another cache of word forms to size with :func:`set_word_cache_size`."""
    _resized.append(resize)
