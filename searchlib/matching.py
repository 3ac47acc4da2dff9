"""Exact evaluation of a parsed query: boolean logic over documents, every match scored.

Whoosh's collectors prune with block-quality bounds, which drop documents that belong
in the top hits under a filter (``IntersectionMatcher.skip_to_quality``), and they score
a filter like a word. Here each free-text leaf's postings are scored into :class:`Matches`
(document numbers in order, with their scores, as numpy arrays), filters into matches
scoring nothing, and the tree combines them: AND intersects, OR unites, NOT subtracts;
scores add up over the leaves that matched, in the order of the query (the same floating-
point sums, to the last bit, as adding them one document at a time). Every matching
document is scored, so the top k are exactly the first k of the whole ranking, in one
total order: score, then date (newest first), then id.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterable, Mapping
from heapq import nlargest
from itertools import islice
from types import MappingProxyType

import attrs
import numpy as np
from whoosh import query as q
from whoosh.codec import whoosh3
from whoosh.fields import BOOLEAN
from whoosh.searching import Searcher

from analyzers import canonical
from searchlib import arrays, syntax
from searchlib.building import decode
from searchlib.query import Reading, Term
from searchlib.syntax import QueryError

Scores = dict[int, float]
MAX_PREFIX_TERMS = 1000  # the terms all of a query's prefixes together expand to, at most
MAX_PREFIX_SCAN = 20_000  # the terms they look at, at most, to choose their most frequent
CHECK_EVERY = 4096  # postings read between looks at the clock
BLOCK_READS = True  # score single terms from arrays of postings (False: through Whoosh's matchers)
MAX_CACHED_POSTINGS = 1 << 21  # per commit, in each of its term caches: 32 MB of numbers at most
ENTRY_POSTINGS = 16  # what a kept term costs beside its postings (key, arrays), in postings' bytes
MAX_CACHED_TERMS = 1 << 16  # per commit, the numbers kept per term (IDFs, document counts)
MAX_CACHED_CHARS = 1 << 23  # per commit, the text of the stored fields kept


@attrs.define
class Budget:
    """What one query may spend, so that no query runs for minutes: prefix expansion shared
    by its prefixes, and wall-clock time (``timeout_s``; None: no limit)."""

    prefixes: int = 1  # how many prefix readings share the expansion
    timeout_s: float | None = None
    started: float = attrs.field(factory=time.monotonic)
    truncated: list[str] = attrs.Factory(list)  # prefixes expanded to only part of their terms

    def per_prefix(self) -> tuple[int, int]:
        """(terms to expand to, terms to look at) for one prefix reading."""
        share = max(1, self.prefixes)
        return max(1, MAX_PREFIX_TERMS // share), max(1, MAX_PREFIX_SCAN // share)

    def check(self) -> None:
        if self.timeout_s is not None and time.monotonic() - self.started > self.timeout_s:
            raise QueryError(f"the query took longer than its time limit ({self.timeout_s:g} s)")


SCORE_DIGITS = 6  # scores are ranked, and shown, to this many decimals


class TermCache(dict[Hashable, tuple[np.ndarray, np.ndarray]]):
    """Arrays per term (its postings, its scores under given parameters), kept while they
    hold at most MAX_CACHED_POSTINGS numbers (each term counting ENTRY_POSTINGS more, for
    its key and arrays: a term without postings costs that much too), then all dropped: a
    bound, not an LRU, since the searchers of every thread share it (a dictionary's single
    operations are atomic; ``get`` is the dictionary's own). The arrays are read-only: a
    caller cannot change what the next search reads."""

    held = 0

    def put(self, key: Hashable, found: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        if self.held > MAX_CACHED_POSTINGS:
            self.clear()
            self.held = 0
        for array in found:  # a term's ids are often its cached postings' already read-only
            if array.flags.writeable:
                array.setflags(write=False)
        self[key] = found
        self.held += len(found[0]) + ENTRY_POSTINGS
        return found


class BoundedCache(dict[Hashable, object]):
    """A number per term, emptied when it holds MAX_CACHED_TERMS of them: the terms a query
    asks about include words no document has, and a stream of made-up words must not grow a
    cache that lives as long as its commit (Whoosh's searcher keeps every IDF it computes, in
    a plain dictionary). Shared by threads like :class:`TermCache`."""

    def __setitem__(self, key: Hashable, value: object) -> None:
        if len(self) >= MAX_CACHED_TERMS:
            self.clear()
        super().__setitem__(key, value)


def bound_caches(searcher: Searcher) -> Searcher:
    """``searcher``, its cache of IDFs bounded (:class:`BoundedCache`)."""
    searcher._idf_cache = BoundedCache(searcher._idf_cache)
    return searcher


@attrs.define
class Facts:
    """What :class:`Documents` reads of one commit of the index, once: every searcher of that
    commit (one per thread) shares them, since document numbers are the commit's."""

    universe: frozenset[int] | None = None
    languages: dict[str, frozenset[int]] | None = None
    keys: dict[int, tuple[float, str]] = attrs.Factory(dict)
    valued: dict[str, tuple[list, list[int]]] = attrs.Factory(dict)
    columns: dict[str, list] = attrs.Factory(dict)
    exact: dict[str, dict[object, frozenset[int]]] = attrs.Factory(dict)
    stored: dict[tuple[int, str], object] = attrs.Factory(dict)
    date_of: dict[int, float] | None = None
    frequencies: dict[tuple[str, str], int] = attrs.Factory(BoundedCache)
    counts: dict[tuple[str, str], int] = attrs.Factory(BoundedCache)  # deleted documents too
    lengths: dict[str, int] = attrs.Factory(dict)
    length_arrays: dict[str, np.ndarray] = attrs.Factory(dict)
    segments: list[tuple[int, arrays.SegmentArrays | None, object]] | None = None
    live: np.ndarray | None = None  # True for each live document number
    deletions: bool | None = None  # whether the commit has deleted documents
    universe_ids: np.ndarray | None = None
    id_arrays: dict[tuple[str, str], np.ndarray] = attrs.Factory(dict)
    norms: dict[tuple[str, float, float, float], np.ndarray] = attrs.Factory(dict)
    documents: dict[int, Mapping[str, object]] = attrs.Factory(dict)  # stored fields
    document_chars: int = 0
    postings: TermCache = attrs.Factory(lambda: TermCache())
    scores: TermCache = attrs.Factory(lambda: TermCache())


@attrs.frozen
class Matches:
    """Documents a query (or a part of it) matches, with their scores: ``ids`` in increasing
    order, ``scores`` (float64) alongside."""

    ids: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def as_dict(self) -> Scores:
        return dict(zip(self.ids.tolist(), self.scores.tolist(), strict=True))


def _filtered(ids: np.ndarray) -> Matches:
    return Matches(ids, np.zeros(len(ids)))


class Documents:
    """Sets of a searcher's live documents, and what else it reads once per commit (:class:`Facts`).
    ``storage`` holds the segments' arrays of postings (:mod:`searchlib.arrays`), if any."""

    def __init__(self, searcher: Searcher, facts: Facts | None = None, storage: object = None) -> None:
        self.searcher = searcher
        self.facts = facts if facts is not None else Facts()
        self.storage = storage
        self.size = searcher.reader().doc_count_all()  # document numbers run below this

    @property
    def universe(self) -> frozenset[int]:
        if self.facts.universe is None:
            self.facts.universe = frozenset(self.searcher.reader().all_doc_ids())
        return self.facts.universe

    @property
    def languages(self) -> dict[str, frozenset[int]]:
        """Live documents per language code (deleted ones are not in postings)."""
        if self.facts.languages is None:
            reader = self.searcher.reader()
            found = {
                decode(term): frozenset(reader.postings("lang", term).all_ids())
                for term in reader.lexicon("lang")
            }
            self.facts.languages = {code: docs for code, docs in found.items() if docs}
        return self.facts.languages

    def doc_frequency(self, fieldname: str, text: str | bytes) -> int:
        """How many live documents hold the term (Whoosh's count includes deleted ones): its
        live postings', which its scoring reads anyway (kept: :meth:`postings`)."""
        text = decode(text)  # Whoosh's matchers ask with the term's bytes
        if BLOCK_READS:
            return len(self.postings(fieldname, text)[0])
        reader = self.searcher.reader()
        if not self.has_deletions:
            return reader.doc_frequency(fieldname, text)
        key = (fieldname, text)
        if key not in self.facts.frequencies:
            found = (fieldname, text) in reader
            self.facts.frequencies[key] = (
                sum(1 for _ in reader.postings(fieldname, text).all_ids()) if found else 0
            )
        return self.facts.frequencies[key]

    def postings_count(self, fieldname: str, text: str) -> int:
        """How many documents hold the term, deleted ones too (Whoosh's doc_frequency)."""
        key = (fieldname, text)
        found = self.facts.counts.get(key)
        if found is None:
            if not BLOCK_READS:
                found = self.searcher.reader().doc_frequency(fieldname, text)
            else:
                found = sum(
                    segment.count(fieldname, text)
                    if segment is not None and segment.has_field(fieldname)
                    else leaf.doc_frequency(fieldname, text)
                    for _, segment, leaf in self.segments()
                )
            self.facts.counts[key] = found
        return found

    def field_length(self, fieldname: str) -> int:
        """The summed lengths of the field in live documents, as stored per document."""
        if fieldname not in self.facts.lengths:
            key = fieldname.rpartition("_")[2] if "_" in fieldname else ""  # notes_ru → ru; names: all
            codes = [code for code in self.languages if not key or canonical(code) == key]
            lengths = self.length_array(fieldname)  # the array block-read scoring reads too
            if lengths is None:
                reader = self.searcher.reader()
                read = (reader.doc_field_length(docnum, fieldname) or 0 for docnum in range(self.size))
                lengths = np.fromiter(read, dtype=np.float64, count=self.size)
            # whole numbers: their float64 sum is exact
            self.facts.lengths[fieldname] = int(lengths[self.mask(codes)].sum())
        return self.facts.lengths[fieldname]

    def matching(self, node: syntax.Node) -> frozenset[int]:
        """The documents a filter admits."""
        if isinstance(node, syntax.OneOf):
            return frozenset().union(*(self.matching(syntax.Match(node.field, v)) for v in node.values))
        if isinstance(node, syntax.Match) and node.field == "lang":
            return self.languages.get(node.value, frozenset())
        if node.field not in self.searcher.schema:
            return frozenset()
        if isinstance(node, syntax.Match):
            return frozenset(q.Term(node.field, node.value).docs(self.searcher))
        values, docnums = self.valued(node.field)
        if isinstance(node, syntax.Range):
            low = (
                0
                if node.low is None
                else (bisect_left if node.include_low else bisect_right)(values, node.low)
            )
            high = (
                len(values)
                if node.high is None
                else (bisect_right if node.include_high else bisect_left)(values, node.high)
            )
        else:
            low = 0 if node.start is None else bisect_left(values, node.start)
            high = len(values) if node.end is None else bisect_left(values, node.end)
        return frozenset(docnums[low:high])

    def valued(self, field: str) -> tuple[list, list[int]]:
        """The values of a number or date ``field`` in order, and the documents that have
        them, read once from its full-precision terms: Whoosh's own range query unites its
        trie terms' postings through nested binary matchers, a second per range on ten
        thousand documents."""
        if field not in self.facts.valued:
            reader, schema = self.searcher.reader(), self.searcher.schema[field]
            pairs = sorted(
                (schema.from_bytes(term), docnum)
                for term in schema.sortable_terms(reader, field)
                for docnum in reader.postings(field, term).all_ids()
            )
            self.facts.valued[field] = ([value for value, _ in pairs], [docnum for _, docnum in pairs])
        return self.facts.valued[field]

    def column(self, field: str) -> list:
        """Each document's raw value in ``field``'s column (its segments' default where it has
        none), by document number: read once per snapshot, for facets and sorting."""
        if field not in self.facts.columns:
            column_type = self.searcher.schema[field].column_type
            default = column_type.default_value()
            values: list = []
            for reader, _ in self.searcher.reader().leaf_readers():
                if reader.has_column(field):
                    values.extend(reader.column_reader(field, translate=False))
                else:
                    values.extend([default] * reader.doc_count_all())
            self.facts.columns[field] = values
        return self.facts.columns[field]

    def exact_values(self, field: str) -> dict[object, frozenset[int]]:
        """Each term of an exact field (a keyword, true/false) with the live documents that
        hold it: facets of fields that keep no column."""
        if field not in self.facts.exact:
            reader, schema = self.searcher.reader(), self.searcher.schema[field]
            found = {}
            if field in reader.indexed_field_names():
                for term in reader.lexicon(field):
                    docs = frozenset(reader.postings(field, term).all_ids())
                    if docs:
                        value = decode(term)
                        found[value == "t" if isinstance(schema, BOOLEAN) else value] = docs
            self.facts.exact[field] = found
        return self.facts.exact[field]

    def length_array(self, fieldname: str) -> np.ndarray | None:
        """Each document's length in ``fieldname`` as Whoosh's scorer reads it (one byte,
        decoded; 0 where the field is empty), by document number, as floats: one array per
        commit. None if a segment keeps its lengths some other way."""
        if fieldname not in self.facts.length_arrays:
            found: list[np.ndarray] = []
            for leaf, _ in self.searcher.reader().leaf_readers():
                perdoc = getattr(leaf, "_perdoc", None)
                if perdoc is None or not hasattr(perdoc, "_cached_reader"):
                    return None
                column = perdoc._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
                if column is None:
                    found.append(np.zeros(leaf.doc_count_all()))
                else:
                    found.append(_LENGTH_OF_BYTE[np.fromiter(column, np.uint8)])
            self.facts.length_arrays[fieldname] = np.concatenate(found) if found else np.zeros(0)
        return self.facts.length_arrays[fieldname]

    def mask(self, codes: Iterable[str]) -> np.ndarray:
        """True for each document of the languages ``codes``, by document number."""
        found = np.zeros(self.size, dtype=bool)
        for code in codes:
            found[self.language_ids(code)] = True
        return found

    def language_ids(self, code: str) -> np.ndarray:
        key = ("lang", code)
        if key not in self.facts.id_arrays:
            self.facts.id_arrays[key] = ids_of(self.languages.get(code, frozenset()))
        return self.facts.id_arrays[key]

    def norms(self, fieldname: str, avgfl: float, b: float, k1: float) -> np.ndarray:
        """``k1 * ((1 - b) + b * length / avgfl)`` per document: BM25's length term, computed
        once per commit and field (the same operations in the same order as per posting)."""
        key = (fieldname, avgfl, b, k1)
        found = self.facts.norms.get(key)
        if found is None:
            found = self.facts.norms[key] = k1 * ((1 - b) + b * self.length_array(fieldname) / avgfl)
        return found

    @property
    def has_deletions(self) -> bool:
        """Whether the commit has deleted documents (Whoosh's readers ask every segment)."""
        if self.facts.deletions is None:
            self.facts.deletions = self.searcher.reader().has_deletions()
        return self.facts.deletions

    @property
    def live(self) -> np.ndarray:
        if self.facts.live is None:
            live = np.zeros(self.size, dtype=bool)
            live[self.universe_ids] = True
            self.facts.live = live
        return self.facts.live

    @property
    def universe_ids(self) -> np.ndarray:
        if self.facts.universe_ids is None:
            self.facts.universe_ids = ids_of(self.universe)
        return self.facts.universe_ids

    def segments(self) -> list[tuple[int, arrays.SegmentArrays | None, object]]:
        """(first document number, its arrays or None, its reader) of each segment."""
        if self.facts.segments is None:
            found = []
            for leaf, offset in self.searcher.reader().leaf_readers():
                found.append((offset, arrays.open_arrays(self.storage, leaf), leaf))
            self.facts.segments = found
        return self.facts.segments

    def postings(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The term's live postings: (document numbers in order, weights as float64), from
        the segments' arrays, and through Whoosh for a segment without them. Kept for the
        commit's later searches (:class:`TermCache`): queries share their common words."""
        key = (fieldname, text)
        found = self.facts.postings.get(key)
        if found is None:
            found = self.facts.postings.put(key, self._read_postings(fieldname, text))
        return found

    def _read_postings(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        pieces = []
        for offset, segment, leaf in self.segments():
            found = segment.postings(fieldname, text) if segment is not None else None
            if found is None:
                found = _whoosh_postings(leaf, fieldname, text)
            if len(found[0]):  # numbers within the segment, as int64 from its first on
                pieces.append((np.add(found[0], offset, dtype=np.int64) if offset else found[0], found[1]))
        if not pieces:
            return _NO_POSTINGS
        if len(pieces) == 1:
            ids, weights = pieces[0][0].astype(np.int64, copy=False), pieces[0][1].astype(np.float64)
        else:
            ids = np.concatenate([p[0] for p in pieces], dtype=np.int64)
            weights = np.concatenate([p[1] for p in pieces], dtype=np.float64)
        if self.has_deletions:
            keep = self.live[ids]
            ids, weights = ids[keep], weights[keep]
        return ids, weights

    def stored_fields(self, docnum: int) -> Mapping[str, object]:
        """A document's stored fields, kept for the commit's later searches while the kept
        ones hold at most MAX_CACHED_CHARS characters of text (then all are dropped): a
        popular document is decompressed and unpickled once, not per search that shows it."""
        cache = self.facts.documents
        found = cache.get(docnum)
        if found is None:
            found = MappingProxyType(self.searcher.stored_fields(docnum))
            chars = sum(len(value) for value in found.values() if isinstance(value, str))
            if self.facts.document_chars + chars > MAX_CACHED_CHARS:
                cache.clear()
                self.facts.document_chars = 0
            cache[docnum] = found
            self.facts.document_chars += chars
        return found

    def stored(self, docnum: int, field: str) -> object:
        """A document's stored ``field`` (sorting by title), read once per snapshot."""
        key = (docnum, field)
        if key not in self.facts.stored:
            self.facts.stored[key] = self.searcher.stored_fields(docnum).get(field)
        return self.facts.stored[key]

    def date_key(self, docnum: int) -> float:
        """Minus the date's timestamp, or +inf if undated: newest first."""
        if self.facts.date_of is None:
            dates, numbers = self.valued("date") if "date" in self.searcher.schema else ([], [])
            self.facts.date_of = dict(zip(numbers, (-date.timestamp() for date in dates), strict=True))
        return self.facts.date_of.get(docnum, float("inf"))

    def order_keys(self, docnums: Iterable[int]) -> dict[int, tuple[float, str]]:
        """(minus the date's timestamp, or +inf if undated; id) per document: ties order."""
        for docnum in docnums:  # the stored fields a hit shows: read once, kept (stored_fields)
            if docnum not in self.facts.keys:
                self.facts.keys[docnum] = (self.date_key(docnum), self.stored_fields(docnum)["id"])
        return self.facts.keys


# a length byte's length (Whoosh's encoding); 0 stands for an empty field
_LENGTH_OF_BYTE = np.array([whoosh3.byte_to_length(byte) if byte else 0 for byte in range(256)], np.float64)


def ids_of(docnums: Iterable[int]) -> np.ndarray:
    """Document numbers as a sorted int64 array."""
    found = np.fromiter(docnums, dtype=np.int64)
    found.sort()
    return found


Part = tuple[np.ndarray, np.ndarray]  # document numbers in order, their scores


def evaluate(
    node: syntax.Node,
    documents: Documents,
    reading_of: Callable[[syntax.Words], Hashable],
    parts_of: Callable[[Hashable], list[Part] | None],
) -> Matches:
    """Every document ``node`` matches, with its score. A leaf's score is its reading's parts'
    (``parts_of`` its ``reading_of``) added up in order. Alternatives that read the same
    (``Partei`` and ``Parteien`` both stem to ``partei``) count once, as in the Whoosh
    queries the ranking was tuned on."""

    def once(items: Iterable[syntax.Node]) -> list[tuple[syntax.Node, Hashable]]:
        """Each alternative with its reading (None: not a leaf), those read alike once."""
        unique: dict[Hashable, tuple[syntax.Node, Hashable]] = {}
        for item in reversed(list(items)):
            if isinstance(item, syntax.Words):
                reading = reading_of(item)
                unique[reading] = (item, reading)
            else:
                unique[item] = (item, None)
        return list(reversed(unique.values()))

    found = _evaluate(node, documents, reading_of, parts_of, once)
    return found if found is not None else _filtered(_NO_POSTINGS[0])


def _evaluate(node, documents, reading_of, parts_of, once) -> Matches | None:
    """None stands for a clause with nothing in it to search for (a lone stopword), which
    leaves the clauses around it as they are."""
    if isinstance(node, syntax.Words):
        parts = parts_of(reading_of(node))
        return None if parts is None else _added([parts], documents.size)
    if isinstance(node, syntax.FILTERS):
        return _filtered(ids_of(documents.matching(node)))
    how = (documents, reading_of, parts_of, once)
    if isinstance(node, syntax.Not):
        return _conjunction([], [node.item], *how)
    if isinstance(node, syntax.Maybe):
        required = _evaluate(node.required, *how)
        optional = _evaluate(node.optional, *how)
        if required is None:
            return optional if optional else None
        if not optional:
            return required
        return Matches(required.ids, required.scores + _scores_at(optional, required.ids))
    if isinstance(node, syntax.And):
        positive = [item for item in node.items if not isinstance(item, syntax.Not)]
        negative = [item.item for item in node.items if isinstance(item, syntax.Not)]
        return _conjunction(positive, negative, *how)
    sums = []  # per alternative, the parts whose scores add up to its own
    for item, reading in once(node.items):
        if reading is not None:  # a leaf's parts go into the sum as they are
            parts = parts_of(reading)
        else:
            found = _evaluate(item, *how)
            parts = None if found is None else [(found.ids, found.scores)]
        if parts is not None:
            sums.append(parts)
    return _added(sums, documents.size) if sums else None


DENSE_SHARE = 256  # arrays over all documents are cheaper than sorting up to this many times fewer


def _added(sums: list[list[Part]], size: int) -> Matches:
    """The documents any part of ``sums`` holds, each scoring the sum over ``sums`` (in
    order, from 0.0) of what the parts of each add up to (in order, from 0.0): the same
    floating-point sums, to the last bit, however a query's leaves are grouped, and the
    same as adding them one document at a time. Totals are kept in arrays over all
    ``size`` documents; a sum of several parts too, unless they are too few for that."""
    sums = [kept for kept in ([part for part in parts if len(part[0])] for parts in sums) if kept]
    if not sums:
        return _filtered(_NO_POSTINGS[0])
    if len(sums) == 1 and len(sums[0]) == 1:
        return Matches(*sums[0][0])
    if size > DENSE_SHARE * sum(len(ids) for parts in sums for ids, _ in parts):
        totals = [parts[0] if len(parts) == 1 else _sorted_sum(parts) for parts in sums]
        return Matches(*(totals[0] if len(totals) == 1 else _sorted_sum(totals)))
    total, matched = np.zeros(size), np.zeros(size, dtype=bool)
    for parts in sums:
        for ids, _ in parts:
            matched[ids] = True
        if len(parts) == 1:
            ids, scores = parts[0]
        elif size <= DENSE_SHARE * sum(len(ids) for ids, _ in parts):
            own = np.zeros(size)
            for ids, scores in parts:
                own[ids] += scores
            total += own  # + 0.0 where the sum has no part: unchanged
            continue
        else:
            ids, scores = _sorted_sum(parts)
        total[ids] += scores
    ids = np.flatnonzero(matched)
    return Matches(ids, total[ids])


def _sorted_sum(parts: list[Part]) -> Part:
    """The documents of ``parts`` in order, each with its parts' scores added up in order
    from 0.0 (as bincount adds them)."""
    ids, where = np.unique(np.concatenate([ids for ids, _ in parts]), return_inverse=True)
    weights = np.concatenate([scores for _, scores in parts])
    return ids, np.bincount(where, weights=weights, minlength=len(ids))


def _scores_at(matches: Matches, ids: np.ndarray) -> np.ndarray:
    """``matches``' score of each of ``ids`` (sorted), 0.0 where it has none."""
    if not len(matches.ids):
        return np.zeros(len(ids))
    where = np.minimum(np.searchsorted(matches.ids, ids), len(matches.ids) - 1)
    return np.where(matches.ids[where] == ids, matches.scores[where], 0.0)


def _conjunction(positive, negative, documents, reading_of, parts_of, once) -> Matches | None:
    how = (documents, reading_of, parts_of, once)
    musts = [r for r in (_evaluate(item, *how) for item in positive) if r is not None]
    excluded = [r for r in (_evaluate(item, *how) for item in negative) if r is not None]
    if not musts and not excluded:
        return None
    if musts:
        ids = musts[0].ids
        for must in musts[1:]:
            ids = np.intersect1d(ids, must.ids, assume_unique=True)
        scores = np.zeros(len(ids))
        for must in musts:  # as sum() adds them: 0, then each in turn
            scores = scores + must.scores[np.searchsorted(must.ids, ids)]
    else:
        ids, scores = documents.universe_ids, np.zeros(len(documents.universe_ids))
    for result in excluded:
        keep = ~np.isin(ids, result.ids, assume_unique=True)
        ids, scores = ids[keep], scores[keep]
    return Matches(ids, scores)


def reading_parts(
    reading: Reading,
    searcher: Searcher,
    names_scale: float,
    names_excluded: np.ndarray | None,
    budget: Budget | None = None,
    documents: Documents | None = None,
) -> list[Part] | None:
    """What each part of a leaf's reading scores, in the reading's order (a leaf scores
    their sum): its readings' BM25F, a prefix's boost, and its name keys' BM25 times
    ``names_scale`` for documents outside ``names_excluded`` (a mask by document number).
    A single term is scored from its postings' arrays (:func:`_term_scores`) when
    ``documents`` has them; phrases go through Whoosh's matchers. None: nothing to score."""
    if reading.is_empty():
        return None
    budget = budget or Budget()
    budget.check()
    parts: list[Part] = []
    for part in reading.parts:
        parts.append(_part_scores(part, searcher, documents, budget))
        budget.check()
    for prefix in reading.prefixes:
        docs = ids_of(_prefix_docs(searcher, prefix, budget))
        parts.append((docs, np.full(len(docs), prefix.boost)))
    for name in reading.names:
        ids, scores = _part_scores(name, searcher, documents, budget)
        if names_excluded is not None and len(ids):
            keep = ~names_excluded[ids]
            ids, scores = ids[keep], scores[keep]
        parts.append((ids, scores * names_scale))
        budget.check()
    return parts


def _part_scores(
    part: Term | q.Query, searcher: Searcher, documents: Documents | None, budget: Budget
) -> Part:
    """What a reading's part scores: a term from its postings' arrays where it can, else
    (a phrase) through Whoosh's matchers."""
    if isinstance(part, Term):
        found = _term_scores(part, searcher, documents) if BLOCK_READS and documents is not None else None
        if found is not None:
            return found
        part = part.query()
    return _matcher_scores(part.matcher(searcher, searcher.context()), budget)


def _term_scores(
    term: Term, searcher: Searcher, documents: Documents
) -> tuple[np.ndarray, np.ndarray] | None:
    """``term``'s BM25F per document as Whoosh's matcher and scorer give it, to the last bit
    (the same expression, evaluated in the same order, in float64), from its postings'
    arrays and the documents' field lengths: Whoosh spent about 10 µs a posting in matcher,
    scorer and column calls. None if this cannot score the term (then Whoosh does). Kept,
    boosted, for the commit's later searches (a title's boost is the same in most) under the
    weighting's knobs, which with the commit decide its parameters."""
    weighting = searcher.weighting
    key = (term, weighting.knobs)
    cached = documents.facts.scores.get(key)  # kept only where the field's lengths are read
    if cached is not None:
        return cached
    fieldname = term.fieldname
    postings = documents.postings(fieldname, term.text)
    ids, tf = postings
    if not len(ids):  # kept too: most words are in no title
        return (
            documents.facts.scores.put(key, postings)
            if documents.length_array(fieldname) is not None
            else None
        )
    found = weighting.parameters(searcher, fieldname, len(ids))
    if found is None or documents.length_array(fieldname) is None:
        return None
    idf, avgfl, b, k1 = found
    scores = idf * ((tf * (k1 + 1)) / (tf + documents.norms(fieldname, avgfl, b, k1)[ids]))
    if term.boost != 1.0:
        scores = scores * term.boost
    return documents.facts.scores.put(key, (ids, scores))


def _whoosh_postings(leaf, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, weights) of a term's postings in one segment, deleted ones included,
    read through Whoosh's matcher."""
    if (fieldname, text) not in leaf:
        return _NO_POSTINGS
    read = list(arrays.all_postings(leaf, fieldname, text))
    return np.array([d for d, _ in read], dtype=np.int64), np.array([w for _, w in read], dtype=np.float64)


_NO_POSTINGS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def ideal_score(queries: Iterable[Term | q.Query], idf: Callable[[str, str], float]) -> float:
    """The most any one of ``queries`` (alternatives) can weigh: its boost times the IDF of
    its terms (``idf(fieldname, text)``). A yardstick of the query, whichever documents
    match it."""
    best = 0.0
    for query in queries:
        if isinstance(query, Term):
            weight = query.boost * idf(query.fieldname, query.text)
        elif isinstance(query, q.Phrase):
            weight = query.boost * sum([idf(query.fieldname, word) for word in query.words])
        else:
            continue
        best = max(best, weight)
    return best


def _matcher_scores(matcher, budget: Budget) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, scores) of what a Whoosh matcher matches, in order."""
    ids: list[int] = []
    scores: list[float] = []
    while matcher.is_active():
        ids.append(matcher.id())
        scores.append(matcher.score())
        matcher.next()
        if len(ids) % CHECK_EVERY == 0:
            budget.check()
    return np.array(ids, dtype=np.int64), np.array(scores, dtype=np.float64)


def _prefix_docs(searcher: Searcher, prefix: q.Prefix, budget: Budget) -> set[int]:
    """Documents holding any of the prefix's most frequent terms, within the budget's share:
    linear in the postings read, where Whoosh's union of one matcher per term was not."""
    reader = searcher.reader()
    if prefix.fieldname not in reader.indexed_field_names():
        return set()
    keep, scan = budget.per_prefix()
    matching = reader.iter_prefix(prefix.fieldname, prefix.text)
    candidates = [(info.doc_frequency(), term) for term, info in islice(matching, scan)]
    if len(candidates) > keep or next(matching, None) is not None:
        budget.truncated.append(f"{prefix.text}*")
    terms = nlargest(keep, candidates)
    docs: set[int] = set()
    for _, term in terms:
        docs.update(reader.postings(prefix.fieldname, term).all_ids())
        budget.check()
    return docs
