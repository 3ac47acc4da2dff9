"""Snippets: the passage of a document where the query's terms are densest.

Matched words are wrapped in ``<em>``…``</em>`` and everything else is HTML-escaped,
so a document containing markup cannot inject it into a page showing the snippet.
"""

from __future__ import annotations

import html
import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterable, Mapping, Sequence, Set

import analyzers
import analyzers.names
from analyzers import GENERIC
from analyzers.tokenizer import has_unspaced, segments, spaced_words, spans, word_ends

WINDOW_WORDS = 30
MAX_ANALYZED_CHARS = 100_000
LONG_WORD = 255  # a kept word length this long or longer: the word's end is read from the text
OPEN, CLOSE = "<em>", "</em>"
NAME_MATCH = "\x00name"  # stands for any token whose name key matched


def snippet(
    text: str,
    lang: str,
    terms: Set[str],
    name_keys: Set[str] = frozenset(),
    window: int = WINDOW_WORDS,
    word_starts: Sequence[int] | None = None,
) -> str:
    """The best ``window``-word passage of ``text`` with the words matching ``terms`` (index
    terms of ``lang``'s analyzer) or ``name_keys`` (keys of :mod:`analyzers.names`) marked.

    The text is read the way indexing reads it, words (and bigrams) without offsets, a cached
    term each; only the chosen passage's words get their offsets (from ``word_starts``, where
    each word starts, if the index kept them). Snippets were half of a search's time when
    every word became a token with offsets.
    """
    text = text[:MAX_ANALYZED_CHARS]
    key_lang = analyzers.canonical(lang)
    if word_starts is not None and name_keys and not terms:  # a body found through its names
        starts = _ints(word_starts)
        named = analyzers.names.names_at(text, starts, key_lang, name_keys)
        if named is not None:
            passage = snippet_at(text, dict.fromkeys(named, NAME_MATCH), starts, window)
            if passage is not None:
                return passage
    units, bigrams = _units(text)
    if not units:
        return html.escape(text[:200])
    if bigrams is None:
        found = _matching(set(units), key_lang, terms, name_keys)
        matches = {position: found[unit] for position, unit in enumerate(units) if unit in found}
    else:  # bigrams are read by the generic chain, and have no name keys
        in_words = _matching(
            {u for u, b in zip(units, bigrams, strict=True) if not b}, key_lang, terms, name_keys
        )
        in_bigrams = _matching(
            {u for u, b in zip(units, bigrams, strict=True) if b}, GENERIC, terms, frozenset()
        )
        matches = {}
        for position, (unit, is_bigram) in enumerate(zip(units, bigrams, strict=True)):
            found = in_bigrams if is_bigram else in_words
            if unit in found:
                matches[position] = found[unit]
    passage = snippet_at(text, matches, word_starts, window) if word_starts is not None else None
    if passage is not None:
        return passage
    first = _best_window_start(list(matches.values()), list(matches), window)
    chosen = list(itertools.islice(spans(text, spaced=bigrams is None), first, first + window))
    return _passage(text, chosen, first, matches) or html.escape(text[:200])


def snippet_at(
    text: str, matched: Mapping[int, Hashable], word_starts: Sequence[int] | None, window: int = WINDOW_WORDS
) -> str | None:
    """What :func:`snippet` makes of ``text`` when the words matching the query are known:
    ``matched`` maps their positions (as indexing counts words: the index's postings keep
    them) to the terms they match, and ``word_starts`` says where each word starts (the
    index keeps that too). (:func:`passage_at`, the positions given in order.)"""
    hits = sorted(matched)
    return passage_at(text, hits, [matched[position] for position in hits], word_starts, window)


def passage_at(
    text: str,
    hits: list[int],
    terms: Sequence[Hashable],
    word_starts: Sequence[int] | None,
    window: int = WINDOW_WORDS,
    word_lengths: Sequence[int] | None = None,
) -> str | None:
    """:func:`snippet_at`'s passage, from the matched words' positions in order (``hits``)
    and what each matched (``terms``: only which match the same term counts). Only the
    marked words and the passage's last are read, each from its start, not every word of
    the text analyzed; none is read where the index keeps how long each word is
    (``word_lengths``, :data:`LONG_WORD` for a word that long or longer). None where
    the analysis must say: a text :func:`snippet` reads only the start of, one without
    words, or starts that do not fit it (a damaged file)."""
    if len(text) > MAX_ANALYZED_CHARS or word_starts is None:
        return None
    first = _best_window_start(terms, hits, window)
    starts = _ints(word_starts[first : first + window + 1])  # and the next word's: the passage's end
    after = starts.pop() if len(starts) > window else len(text)
    if not starts:
        return None
    last = first + len(starts) - 1
    shown = hits[bisect_left(hits, first) : bisect_right(hits, last)]
    lengths = None if word_lengths is None else _ints(word_lengths[first : last + 1])
    if lengths is not None and LONG_WORD not in lengths:
        end = furthest = starts[-1] + lengths[-1]
        marked = []
        for position in shown:
            start = starts[position - first]
            mark_end = start + lengths[position - first]
            marked.append((start, mark_end))
            if mark_end > furthest:
                furthest = mark_end
        if furthest > len(text):
            return None  # lengths that do not fit the text (a damaged file)
        return _rendered(text, starts[0], end, _merged_spans(marked))
    spaced = not has_unspaced(text[starts[0] : after])  # the usual case: a simpler pattern reads it
    ends = word_ends(text, [starts[position - first] for position in (*shown, last)], spaced)
    if None in ends:  # a start that is no word's
        return None
    marked = [(starts[position - first], end) for position, end in zip(shown, ends, strict=False)]
    return _rendered(text, starts[0], ends[-1], marked if spaced else _merged_spans(marked))


def _ints(numbers: Sequence[int]) -> list[int]:
    """``numbers`` (a numpy array of the index's, or a sequence) as a list: numpy's ints are slow."""
    return numbers.tolist() if hasattr(numbers, "tolist") else list(numbers)


def _passage(
    text: str, chosen: list[tuple[int, int]], first: int, matched: Mapping[int, object]
) -> str | None:
    """``chosen`` (the spans of the words from position ``first`` on) rendered, the words at
    ``matched`` positions marked; None if there are no words."""
    if not chosen:
        return None
    marked = _merged_spans(span for position, span in enumerate(chosen, first) if position in matched)
    return _rendered(text, chosen[0][0], chosen[-1][1], marked)


def _matching(words: Iterable[str], key: str, terms: Set[str], name_keys: Set[str]) -> dict[str, str]:
    """What each of these distinct words matches, if anything: a term of ``terms`` (read by
    ``key``'s chain, looked up in C for them all), else a name key (:data:`NAME_MATCH`)."""
    words = list(words)
    found: dict[str, str] = {}
    if terms:
        looked_up = analyzers.chain(key).terms(words)
        found = {word: term for word, term in zip(words, looked_up, strict=True) if term in terms}
    if name_keys:
        candidates = analyzers.names.name_candidates(words)
        keys_of = map(analyzers.names.word_keys, candidates, itertools.repeat(key))
        for word, keys in zip(candidates, keys_of, strict=True):
            if word not in found and not name_keys.isdisjoint(keys):
                found[word] = NAME_MATCH
    return found


def _units(text: str) -> tuple[list[str], list[bool] | None]:
    """The words of ``text`` as :func:`analyzers.words` finds them, without offsets, and
    which are bigrams (None: none are, the usual case, read at a third of the cost)."""
    plain = spaced_words(text)
    if plain is not None:
        return plain, None
    units: list[str] = []
    bigrams: list[bool] = []
    for are_bigrams, made in segments(text)[0]:
        units += made
        bigrams += [are_bigrams] * len(made)
    return units, bigrams


def _rendered(text: str, start: int, end: int, marked: list[tuple[int, int]]) -> str:
    """``text[start:end]`` escaped, the ``marked`` spans in it wrapped in ``<em>``: escaped in
    one call, the marks held by two control characters meanwhile (a call per piece was a
    sixth of a snippet), unless the passage holds them itself."""
    passage = text[start:end]
    if _OPENING not in passage and _CLOSING not in passage:
        pieces, cursor = [], start
        for span_start, span_end in marked:
            pieces += (text[cursor:span_start], _OPENING, text[span_start:span_end], _CLOSING)
            cursor = span_end
        pieces.append(text[cursor:end])
        body = html.escape("".join(pieces)).replace(_OPENING, OPEN).replace(_CLOSING, CLOSE)
    else:
        pieces, cursor = [], start
        for span_start, span_end in marked:
            pieces.append(html.escape(text[cursor:span_start]))
            pieces.append(OPEN + html.escape(text[span_start:span_end]) + CLOSE)
            cursor = span_end
        pieces.append(html.escape(text[cursor:end]))
        body = "".join(pieces)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text.rstrip()) else ""
    return prefix + body.replace("\n", " ") + suffix


_OPENING, _CLOSING = "\x00", "\x01"  # where OPEN and CLOSE go, while the passage is escaped


def _merged_spans(found: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The character spans to mark, overlapping or touching ones merged: the bigrams 图书
    and 书馆 of 图书馆 are one highlight, not 图书 then 书 again. (Words of spaced text
    neither overlap nor touch.)"""
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def _best_window_start(matched: Sequence[Hashable], hits: list[int], window: int) -> int:
    """Where a window of ``window`` words covers the most distinct matched terms; ``hits``
    are the matched words' positions, in order, ``matched`` what each matched."""
    if not hits:
        return 0
    window = max(window, 1)
    best = hits[0]
    if hits[-1] >= hits[0] + window:  # else one window holds them all: none does better
        best = _densest_window(matched, hits, window)
    # Start a little before the first match, for context.
    return max(0, best - min(5, window // 6))


def _densest_window(matched: Sequence[Hashable], hits: list[int], window: int) -> int:
    """The first of ``hits`` whose window holds the most distinct terms, then the most hits."""
    best, most_terms, most_hits = hits[0], -1, 0
    in_window: dict[Hashable, int] = {}  # the terms matched from hits[i] on, within the window: how often
    last, count = 0, len(hits)
    for i, first_hit in enumerate(hits):
        end = first_hit + window
        while last < count and hits[last] < end:
            term = matched[last]
            in_window[term] = in_window.get(term, 0) + 1
            last += 1
        terms = len(in_window)
        if terms > most_terms or (terms == most_terms and last - i > most_hits):
            best, most_terms, most_hits = first_hit, terms, last - i
        if last == count:  # every later window holds only some of this one's hits: none is better
            break
        term = matched[i]
        if in_window[term] == 1:
            del in_window[term]
        else:
            in_window[term] -= 1
    return best
