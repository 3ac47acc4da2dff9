"""Split text into words with offsets, the same way for every language.

A word is a run of letters, digits and combining marks (``\\p{M}``: without them
Devanagari and Thai words fall apart at every vowel sign). Scripts written
without spaces (Han, Kana, Hangul, Thai, Lao, Khmer, Myanmar) are cut into
overlapping character bigrams, as Lucene's CJK analyzer does, so that any
substring of two or more characters is findable.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import regex

_WORD = regex.compile(r"[\p{L}\p{N}\p{M}\u200c\u200d]+")
_UNSPACED = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
    r"\u3005\u30fc]+[\p{M}]*"
)
_MARK = regex.compile(r"\p{M}")


def words(text: str) -> Iterator[tuple[str, int, int, bool]]:
    """Yield ``(surface, start, end, is_bigram)``; bigrams come from unspaced scripts."""
    for match in _WORD.finditer(text):
        start, end = match.span()
        word = match.group()
        if not _UNSPACED.search(word):
            yield word, start, end, False
            continue
        cursor = start
        for run in _UNSPACED.finditer(word):
            run_start, run_end = start + run.start(), start + run.end()
            if run_start > cursor:
                yield text[cursor:run_start], cursor, run_start, False
            yield from _bigrams(text, run_start, run_end)
            cursor = run_end
        if cursor < end:
            yield text[cursor:end], cursor, end, False


def _bigrams(text: str, start: int, end: int) -> Iterator[tuple[str, int, int, bool]]:
    """Overlapping pairs of base characters; a combining mark stays with its base."""
    units: list[tuple[int, int]] = []
    for i in range(start, end):
        if units and _MARK.match(text[i]):
            units[-1] = (units[-1][0], i + 1)
        else:
            units.append((i, i + 1))
    if len(units) == 1:
        s, e = units[0]
        yield text[s:e], s, e, True
        return
    for (s, _), (_, e) in pairwise(units):
        yield text[s:e], s, e, True
