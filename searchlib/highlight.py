"""Snippets: the passage of a document where the query's terms are densest.

Matched words are wrapped in ``<em>``…``</em>`` and everything else is HTML-escaped,
so a document containing markup cannot inject it into a page showing the snippet.
"""

from __future__ import annotations

import html
from bisect import bisect_left
from collections.abc import Iterable, Set

import attrs

import analyzers
from analyzers.names import name_tokens

WINDOW_WORDS = 30
MAX_ANALYZED_CHARS = 100_000
OPEN, CLOSE = "<em>", "</em>"
NAME_MATCH = "\x00name"  # stands for any token whose name key matched


def snippet(
    text: str, lang: str, terms: Set[str], name_keys: Set[str] = frozenset(), window: int = WINDOW_WORDS
) -> str:
    """The best ``window``-word passage of ``text`` with the words matching ``terms`` (index
    terms of ``lang``'s analyzer) or ``name_keys`` (keys of :mod:`analyzers.names`) marked."""
    text = text[:MAX_ANALYZED_CHARS]
    if terms:
        tokens = analyzers.analyze(text, lang)
    else:  # a hit through name keys alone: no term to find, so its words need no chain (nor dictionary)
        tokens = [
            analyzers.Token(w, i, start, end) for i, (w, start, end, _) in enumerate(analyzers.words(text))
        ]
    if not tokens:
        return html.escape(text[:200])
    if name_keys:
        named = {t.start for t in name_tokens(text, lang) if t.term in name_keys}
        tokens = [
            attrs.evolve(t, term=NAME_MATCH) if t.start in named and t.term not in terms else t
            for t in tokens
        ]
        terms = {*terms, NAME_MATCH}
    hits = [i for i, token in enumerate(tokens) if token.term in terms]
    first = _best_window_start(tokens, hits, window)
    chosen = tokens[first : first + window]
    start, end = chosen[0].start, chosen[-1].end
    pieces, cursor = [], start
    for span_start, span_end in _merged_spans(t for t in chosen if t.term in terms):
        pieces.append(html.escape(text[cursor:span_start]))
        pieces.append(OPEN + html.escape(text[span_start:span_end]) + CLOSE)
        cursor = span_end
    pieces.append(html.escape(text[cursor:end]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text.rstrip()) else ""
    return prefix + "".join(pieces).replace("\n", " ") + suffix


def _merged_spans(tokens: Iterable[analyzers.Token]) -> list[tuple[int, int]]:
    """The character spans to mark, overlapping or touching ones merged: the bigrams 图书
    and 书馆 of 图书馆 are one highlight, not 图书 then 书 again."""
    spans: list[tuple[int, int]] = []
    for token in tokens:
        if spans and token.start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], token.end))
        else:
            spans.append((token.start, token.end))
    return spans


def _best_window_start(tokens: list[analyzers.Token], hits: list[int], window: int) -> int:
    """Where a window of ``window`` tokens covers the most distinct matched terms."""
    if not hits:
        return 0
    best, best_score = hits[0], (-1, 0)
    for i, first_hit in enumerate(hits):
        covered = hits[i : bisect_left(hits, first_hit + window, lo=i)]
        score = (len({tokens[h].term for h in covered}), len(covered))
        if score > best_score:
            best, best_score = first_hit, score
    # Start a little before the first match, for context.
    return max(0, best - min(5, window // 6))
