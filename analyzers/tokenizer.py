"""Split text into words with offsets, the same way for every language.

A word is a run of letters, digits and combining marks (``\\p{M}``: without them
Devanagari and Thai words fall apart at every vowel sign). Scripts written
without spaces (Han, Kana, Hangul, Thai, Lao, Khmer, Myanmar) are cut into
overlapping character bigrams, as Lucene's CJK analyzer does, so that any
substring of two or more characters is findable.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import pairwise

import regex

_UNSPACED_SCRIPTS = (
    r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\u3005\u30fc"
)
# One pass: a run of an unspaced script (with any marks after it), or a word of letters,
# digits, marks and joiners from every other script.
_TOKEN = regex.compile(
    rf"(?V1)(?P<unspaced>[{_UNSPACED_SCRIPTS}]+\p{{M}}*)"
    rf"|(?P<word>[[\p{{L}}\p{{N}}\p{{M}}\u200c\u200d]--[{_UNSPACED_SCRIPTS}]]+)"
)
_UNSPACED = regex.compile(rf"[{_UNSPACED_SCRIPTS}]")
# Blocks holding every letter of those scripts (tests/test_analyzers.py checks it is a superset):
# the standard library searches a plain class of ranges ten times faster than ``regex`` the
# script properties, and most texts have none of them.
_MAYBE_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u11ff\u1780-\u17ff\u19e0-\u19ff\u2e80-\u2fdf\u3005-\u9fff"
    "\ua960-\ua97f\ua9e0-\ua9ff\uaa60-\uaa7f\uac00-\ud7ff\uf900-\ufaff\uff66-\uffdc"
    "\U000116d0-\U000116ef\U00016fe0-\U00016fff\U0001aff0-\U0001b16f\U0001f200\U00020000-\U0003ffff]"
)
_WORD = regex.compile(r"[\p{L}\p{N}\p{M}\u200c\u200d]+")  # in text without unspaced scripts
# The same class within ASCII, where the standard library finds it ten times faster than
# ``regex`` (a query's word: 0.3 µs, not 3): letters and digits are ASCII's only L, N and M.
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
_ASCII_MATCH_START = type(_ASCII_WORD.match("a")).start
_ASCII_MATCH_GROUP = type(_ASCII_WORD.match("a")).group
_MARK = regex.compile(r"\p{M}")
_MATCH_START = type(_WORD.match("a")).start  # a match's start, called from map() in C
_MATCH_GROUP = type(_WORD.match("a")).group
_UNIT = regex.compile(r"(?s).\p{M}*")  # a character with the marks that follow it


def words(text: str, start: int = 0) -> Iterator[tuple[str, int, int, bool]]:
    """Yield ``(surface, start, end, is_bigram)`` from ``start`` on (the start of a word or
    bigram: it is read as if the text began there); bigrams come from unspaced scripts."""
    if start == 0 and len(text) <= SHORT_CHARS:
        return iter(_short_words(text))
    return _words(text, start)


SHORT_CHARS = 64  # a query's word or phrase: the parser, each language's analysis and the name keys read it


@lru_cache(maxsize=1 << 14)
def _short_words(text: str) -> tuple[tuple[str, int, int, bool], ...]:
    return tuple(_words(text, 0))


def _words(text: str, start: int) -> Iterator[tuple[str, int, int, bool]]:
    if text.isascii():
        for match in _ASCII_WORD.finditer(text, start):
            yield match.group(), *match.span(), False
        return
    for match in _TOKEN.finditer(text, start):
        start, end = match.span()
        if match.lastgroup == "unspaced":
            yield from _bigrams(text, start, end)
        else:
            yield match.group(), start, end, False


def spaced_words(text: str) -> list[str] | None:
    """The words of ``text`` as :func:`words` finds them, without offsets, if it has no
    unspaced script (so no bigrams); else None. Indexing's usual case, at half the cost."""
    if text.isascii():
        return _ASCII_WORD.findall(text)
    return None if has_unspaced(text) else _WORD.findall(text)


def spaced_words_and_starts(text: str) -> tuple[list[str], list[int]] | None:
    """:func:`spaced_words` and :func:`word_starts` of ``text`` from one pass of the
    pattern (indexing needs both of a body: 40% less than two passes); None if it has an
    unspaced script."""
    if text.isascii():
        matches = list(_ASCII_WORD.finditer(text))
        return list(map(_ASCII_MATCH_GROUP, matches)), list(map(_ASCII_MATCH_START, matches))
    if has_unspaced(text):
        return None
    matches = list(_WORD.finditer(text))
    return list(map(_MATCH_GROUP, matches)), list(map(_MATCH_START, matches))


def has_unspaced(text: str) -> bool:
    """Whether ``text`` has letters of a script written without spaces (cut into bigrams)."""
    return not text.isascii() and bool(_MAYBE_UNSPACED.search(text)) and bool(_UNSPACED.search(text))


def spans(text: str, spaced: bool, start: int = 0) -> Iterator[tuple[int, int]]:
    """The ``(start, end)`` of each word of :func:`words` from ``start`` on, in order;
    ``spaced``: the text has no unspaced script (:func:`spaced_words` gave its words), and a
    simpler pattern finds them."""
    if spaced:
        return (match.span() for match in (_ASCII_WORD if text.isascii() else _WORD).finditer(text, start))
    return ((begin, end) for _, begin, end, _ in words(text, start))


def word_end(text: str, start: int, spaced: bool = False) -> int | None:
    """Where the word or bigram of :func:`words` that starts at ``start`` ends (read as if
    the text began there, as :func:`words` reads it); None if none starts there.
    ``spaced``: no unspaced script is near, and a simpler pattern finds the word."""
    if spaced or text.isascii():
        found = (_ASCII_WORD if text.isascii() else _WORD).match(text, start)
        return found.end() if found else None
    found = _TOKEN.match(text, start)
    if found is None or found.lastgroup == "word":
        return found.end() if found else None
    first = _UNIT.match(text, start, found.end())  # a bigram: its run's first two units
    second = _UNIT.match(text, first.end(), found.end())
    return (second or first).end()


def word_ends(text: str, starts: Iterable[int], spaced: bool = False) -> list[int | None]:
    """:func:`word_end` of each of ``starts``: the pattern chosen once (a snippet reads a few)."""
    if spaced or text.isascii():
        match = (_ASCII_WORD if text.isascii() else _WORD).match
        return [found.end() if (found := match(text, start)) else None for start in starts]
    return [word_end(text, start) for start in starts]


def word_ends_of(starts: Sequence[int], surfaces: Iterable[str]) -> list[int]:
    """Where each word ends, from where it starts and what it reads (a word's surface is the
    text it spans): indexing has both, and snippets then read no word to find its end."""
    return list(map(operator.add, starts, map(len, surfaces)))


def run_ends(runs: list[tuple[bool, list[str]]], starts: Sequence[int]) -> list[int]:
    """:func:`word_ends_of` the words and bigrams of :func:`segments`."""
    return word_ends_of(starts, itertools.chain.from_iterable(made for _, made in runs))


def word_spans(text: str) -> tuple[list[int], list[int]]:
    """Where each word of :func:`spans` starts, and where it ends."""
    found = spaced_words_and_starts(text)
    if found is not None:
        surfaces, starts = found
        return starts, word_ends_of(starts, surfaces)
    runs, starts = segments(text)
    return starts, run_ends(runs, starts)


def segments(text: str) -> tuple[list[tuple[bool, list[str]]], list[int]]:
    """The words and bigrams of :func:`words`, in runs of one kind, ``(True, bigrams)`` or
    ``(False, words)``, in order, and where each starts. Bigrams are made in C, a Python step
    per run rather than per bigram: Thai and Chinese text is mostly bigrams."""
    found: list[tuple[bool, list[str]]] = []
    starts: list[int] = []
    for match in _TOKEN.finditer(text):
        begin = match.start()
        bigrams = match.lastgroup == "unspaced"
        run = match.group()
        units = (_UNIT.findall(run) if _MARK.search(run) else run) if bigrams else ()
        if len(units) > 1:
            made = list(map(operator.add, units, units[1:]))
            starts += itertools.accumulate(map(len, units[:-2]), initial=begin)
        else:
            made = [run]
            starts.append(begin)
        if found and found[-1][0] == bigrams:
            found[-1][1].extend(made)
        else:
            found.append((bigrams, made))
    return found, starts


def _bigrams(text: str, start: int, end: int) -> Iterator[tuple[str, int, int, bool]]:
    """Overlapping pairs of base characters; a combining mark stays with its base."""
    units = [unit.span() for unit in _UNIT.finditer(text, start, end)]
    if len(units) == 1:
        s, e = units[0]
        yield text[s:e], s, e, True
        return
    for (s, _), (_, e) in pairwise(units):
        yield text[s:e], s, e, True
