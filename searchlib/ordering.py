"""Which matching documents a page shows, and in what order: by relevance (the default) or
by the fields ``sort=`` names, and from ``offset`` on.

One total order whatever is asked: the sort keys (a document missing a value comes after
every one that has it, ascending or descending), then score, then date (newest first),
then id. Only the documents that can reach the page are given ids (a stored-field read
each): the rest are told apart by cheaper keys.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from functools import total_ordering
from heapq import nlargest, nsmallest

import attrs
import numpy as np

from searchlib.fields import MISSING_INT, SEPARATOR, Date, Field, Keyword, Numeric
from searchlib.matching import SCORE_DIGITS, Documents, Matches
from searchlib.syntax import QueryError, names_argument

BUILTIN_SORTS = ("date", "title", "id", "lang", "source")
RELEVANCE = ("score", "_score", "relevance")
MAX_SORT_KEYS = 16
# Scores rank rounded to SCORE_DIGITS decimals: one within this of the page's last score
# (below it) may round to the same value, so it stays a candidate.
ROUNDING_MARGIN = 2 * 10.0**-SCORE_DIGITS


@attrs.frozen
class SortKey:
    field: str
    descending: bool = False


def sort_keys(sort: str | Iterable[str] | None, declared: Mapping[str, Field]) -> list[SortKey]:
    """``sort="-price"`` or ``["-date", "title"]`` read and checked: a ``-`` sorts descending."""
    specs = names_argument(sort, "sort")
    if len(specs) > MAX_SORT_KEYS:
        raise QueryError(f"sort takes at most {MAX_SORT_KEYS} fields, not {len(specs)}")
    keys = []
    for spec in specs:
        if not isinstance(spec, str) or not spec.strip("+-"):
            raise QueryError(f"sort takes field names such as 'title' or '-price', not {spec!r}")
        name = spec.lstrip("+-")
        descending = spec.startswith("-")
        if name in RELEVANCE:
            keys.append(SortKey("score", not descending))  # "score": best first; "-score": worst
            continue
        field = declared.get(name)
        if name not in BUILTIN_SORTS and field is None:
            sortable = ", ".join([*BUILTIN_SORTS, *(n for n, f in declared.items() if f.sortable_column())])
            raise QueryError(f"sort: no field {name!r} (fields to sort on: {sortable})")
        if field is not None and not field.sortable_column():
            how = "Keyword(facet=True), one value" if isinstance(field, Keyword) else "sortable=True"
            raise QueryError(f"sort: field {name!r} is not sortable (declare it with {how})")
        keys.append(SortKey(name, descending))
    return keys


@total_ordering
class _Reversed:
    """A text compared backwards, for descending sorts on text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.text == other.text

    def __lt__(self, other: _Reversed) -> bool:
        return self.text > other.text

    def __hash__(self) -> int:
        return hash(self.text)


def _value_getter(
    key: SortKey, documents: Documents, declared: Mapping[str, Field]
) -> Callable[[int], object]:
    """A document's value for ``key``, or None if it has none."""
    field = declared.get(key.field)
    if key.field == "date":
        return lambda docnum: None if math.isinf(key_of := documents.date_key(docnum)) else -key_of
    if isinstance(field, (Numeric, Date)):
        column = documents.column(key.field)

        def number(docnum: int) -> object:
            value = column[docnum]
            return None if value == MISSING_INT or value != value else value  # NaN: a float missing

        return number
    if isinstance(field, Keyword):
        column = documents.column(key.field)
        return lambda docnum: column[docnum].decode("utf-8").partition(SEPARATOR)[0] or None
    if key.field == "lang":
        language_of = {d: code for code, docs in documents.languages.items() for d in docs}
        return language_of.get
    return lambda docnum: documents.stored(docnum, key.field)


def ordered(
    matches: Matches,
    offset: int,
    limit: int,
    documents: Documents,
    keys: list[SortKey] = (),  # type: ignore[assignment]
    declared: Mapping[str, Field] | None = None,
) -> list[tuple[float, int]]:
    """The (score, docnum) pairs of the page ``[offset, offset + limit)`` of the whole order.
    By relevance, only the documents that can be on the page are looked at in Python (those
    scoring within a rounding of the page's last score, or more)."""
    wanted = offset + limit
    if offset >= len(matches):
        return []
    if not keys and len(matches) > wanted:
        floor = np.partition(matches.scores, len(matches) - wanted)[len(matches) - wanted]
        near = matches.scores >= floor - ROUNDING_MARGIN
        matches = Matches(matches.ids[near], matches.scores[near])
    scores = matches.as_dict()
    getters = [
        (key, None if key.field == "score" else _value_getter(key, documents, declared or {})) for key in keys
    ]

    def cheap(docnum: int) -> tuple:
        if not getters:  # by relevance, the usual order
            return (-round(scores[docnum], SCORE_DIGITS), documents.date_key(docnum))
        parts: list[object] = []
        for key, getter in getters:
            if getter is None:
                score = round(scores[docnum], SCORE_DIGITS)
                parts.append((0, -score if key.descending else score))
                continue
            value = getter(docnum)
            if value is None:
                parts.append((1,))
            elif key.descending:
                parts.append((0, _Reversed(value) if isinstance(value, str) else -value))
            else:
                parts.append((0, value))
        return (*parts, -round(scores[docnum], SCORE_DIGITS), documents.date_key(docnum))

    if not getters and len(scores) > wanted:  # by relevance: the score alone narrows it down
        floor = round(nlargest(wanted, scores.values())[-1], SCORE_DIGITS)
        candidates = [docnum for docnum, score in scores.items() if round(score, SCORE_DIGITS) >= floor]
    else:
        candidates = list(scores)
    cheap_keys = {docnum: cheap(docnum) for docnum in candidates}
    if len(candidates) > wanted:
        last = cheap_keys[nsmallest(wanted, candidates, key=cheap_keys.__getitem__)[-1]]
        candidates = [docnum for docnum in candidates if cheap_keys[docnum] <= last]
    ids = documents.order_keys(candidates)
    candidates.sort(key=lambda docnum: (cheap_keys[docnum], ids[docnum][1]))
    return [(scores[docnum], docnum) for docnum in candidates[offset:wanted]]
