"""A language's analysis chain: fold a word, drop it if a stopword, else stem or lemmatize."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

import attrs

WORD_CACHE_SIZE = 1 << 18  # word forms, all languages together, unless set otherwise

_CHAINS: list[Chain] = []  # every chain made, by its number


@attrs.frozen
class Chain:
    """Lucene-style per-language chain, applied word by word.

    ``term`` is cached on the surface form: running text repeats its words, so a cached
    lemmatizer costs a dictionary lookup per token. Each chain keeps its own dictionary,
    looked up from C for a text's words (:meth:`terms`: 80 ns a word where a shared
    ``lru_cache`` keyed by chain and word took 320); together they hold at most
    :func:`set_word_cache_size` words, however many languages a corpus has, the oldest half
    of the largest going when they are full.
    """

    fold: Callable[[str], str]
    stem: Callable[[str], str]
    stop: frozenset[str] = frozenset()
    number: int = attrs.field(init=False)  # its place in the registry of chains
    _cache: dict[str, str] = attrs.field(init=False, factory=dict, eq=False, hash=False, repr=False)

    @number.default
    def _register(self) -> int:
        _CHAINS.append(self)
        return len(_CHAINS) - 1

    def term(self, word: str) -> str | None:
        """The term of ``word`` (None: a stopword, or nothing left after folding)."""
        found = self._cache.get(word)
        return (self._remember(word) if found is None else found) or None

    def terms(self, words: Iterable[str]) -> list[str]:
        """The term of each of ``words`` ("" where :meth:`term` gives None), looked up
        without a Python step per word: a snippet reads hundreds of words a search."""
        words = words if isinstance(words, list) else list(words)
        found = list(map(self._cache.get, words))
        if None in found:  # words not seen yet
            remember = self._remember
            pairs = zip(found, words, strict=True)
            found = [remember(word) if term is None else term for term, word in pairs]
        return found

    def uncached_term(self, word: str) -> str | None:
        folded = self.fold(word)
        # A "word" of joiners or soft hyphens alone folds to nothing.
        return None if not folded or folded in self.stop else self.stem(folded) or None

    def _remember(self, word: str) -> str:
        global _held
        term = self.uncached_term(word) or ""
        if _held >= _limit:
            _evict()
        self._cache[word] = term
        _held += 1
        return term


def numbered_chain(number: int) -> Chain:
    """The chain made ``number``-th (:attr:`Chain.number`)."""
    return _CHAINS[number]


_limit = WORD_CACHE_SIZE  # words all chains' caches hold together, at most
_held = 0  # about how many they hold (counted again at each eviction)
_resized: list[Callable[[int], None]] = []  # other caches of word forms, to size alike


def _evict() -> None:
    """Forget the oldest half of the largest chain's words."""
    global _held
    largest = max(_CHAINS, key=lambda chain: len(chain._cache))._cache
    for word in list(itertools.islice(largest, max(1, len(largest) // 2))):
        largest.pop(word, None)
    _held = sum(len(chain._cache) for chain in _CHAINS)


def set_word_cache_size(entries: int) -> None:
    """Keep at most ``entries`` word forms in each of the analyzers' caches (emptied if
    the size changes). Indexing sets it from its memory setting."""
    global _limit
    if _limit == entries:
        return
    _limit = entries
    _clear()
    for resize in _resized:
        resize(entries)


def clear_word_caches() -> None:
    """Forget every cached word form (benchmarks measure cold analysis with this)."""
    _clear()
    for resize in _resized:
        resize(_limit)


def _clear() -> None:
    global _held
    for chain in _CHAINS:
        chain._cache.clear()
    _held = 0


def resized_with_the_word_cache(resize: Callable[[int], None]) -> None:
    """Register another cache of word forms to size with :func:`set_word_cache_size`."""
    _resized.append(resize)
