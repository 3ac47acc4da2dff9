"""Exact evaluation of a parsed query: boolean logic over documents, every match scored.

Whoosh's collectors prune with block-quality bounds, which drop documents that belong
in the top hits under a filter (``IntersectionMatcher.skip_to_quality``), and they score
a filter like a word. Here each free-text leaf's postings are read into a dict of
document number → score, filters into sets, and the tree combines them: AND intersects,
OR unites, NOT subtracts; scores add up over the leaves that matched; filters add
nothing. Every matching document is scored, so the top k are exactly the first k of the
whole ranking, in one total order: score, then date (newest first), then id.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterable
from heapq import nlargest
from itertools import islice

import attrs
from whoosh import query as q
from whoosh import scoring
from whoosh.codec import whoosh3
from whoosh.fields import BOOLEAN
from whoosh.matching.wrappers import FilterMatcher
from whoosh.searching import Searcher

from analyzers import canonical
from searchlib import syntax
from searchlib.building import decode
from searchlib.query import Reading
from searchlib.syntax import QueryError

Scores = dict[int, float]
MAX_PREFIX_TERMS = 1000  # the terms all of a query's prefixes together expand to, at most
MAX_PREFIX_SCAN = 20_000  # the terms they look at, at most, to choose their most frequent
CHECK_EVERY = 4096  # postings read between looks at the clock
BLOCK_READS = True  # score single terms from blocks of postings (False: through Whoosh's matchers)


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
    frequencies: dict[tuple[str, str], int] = attrs.Factory(dict)
    lengths: dict[str, int] = attrs.Factory(dict)
    field_lengths: dict[str, list] = attrs.Factory(dict)


class Documents:
    """Sets of a searcher's live documents, and what else it reads once per commit (:class:`Facts`)."""

    def __init__(self, searcher: Searcher, facts: Facts | None = None) -> None:
        self.searcher = searcher
        self.facts = facts if facts is not None else Facts()

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

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """How many live documents hold the term (Whoosh's count includes deleted ones)."""
        reader = self.searcher.reader()
        if not reader.has_deletions():
            return reader.doc_frequency(fieldname, text)
        key = (fieldname, text)
        if key not in self.facts.frequencies:
            found = (fieldname, text) in reader
            self.facts.frequencies[key] = (
                sum(1 for _ in reader.postings(fieldname, text).all_ids()) if found else 0
            )
        return self.facts.frequencies[key]

    def field_length(self, fieldname: str) -> int:
        """The summed lengths of the field in live documents, as stored per document."""
        if fieldname not in self.facts.lengths:
            key = fieldname.rpartition("_")[2] if "_" in fieldname else ""  # notes_ru → ru; names: all
            codes = [code for code in self.languages if not key or canonical(code) == key]
            lengths = self.field_lengths(fieldname)  # the list block-read scoring reads too
            if lengths is None:
                reader = self.searcher.reader()
                lengths = [
                    reader.doc_field_length(docnum, fieldname) for docnum in range(reader.doc_count_all())
                ]
            self.facts.lengths[fieldname] = sum(  # None: the field is empty in that document
                lengths[docnum] or 0 for code in codes for docnum in self.languages[code]
            )
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

    def field_lengths(self, fieldname: str) -> list | None:
        """Each document's length in ``fieldname`` as Whoosh's scorer reads it (one byte,
        decoded; None where the field is empty), by document number: one list per commit.
        None if a segment keeps its lengths some other way."""
        if fieldname not in self.facts.field_lengths:
            found: list = []
            for leaf, _ in self.searcher.reader().leaf_readers():
                perdoc = getattr(leaf, "_perdoc", None)
                if perdoc is None or not hasattr(perdoc, "_cached_reader"):
                    return None
                column = perdoc._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
                if column is None:
                    found.extend([None] * leaf.doc_count_all())
                else:
                    found.extend(whoosh3.byte_to_length(byte) if byte else None for byte in column)
            self.facts.field_lengths[fieldname] = found
        return self.facts.field_lengths[fieldname]

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
        stored = self.searcher.stored_fields
        for docnum in docnums:
            if docnum not in self.facts.keys:
                self.facts.keys[docnum] = (self.date_key(docnum), stored(docnum)["id"])
        return self.facts.keys


def evaluate(
    node: syntax.Node,
    documents: Documents,
    leaf_scores: Callable[[syntax.Words], Scores | None],
    leaf_identity: Callable[[syntax.Words], Hashable] = lambda leaf: leaf,
) -> Scores:
    """Every document ``node`` matches, with its score. Alternatives that read the same
    (``leaf_identity``: ``Partei`` and ``Parteien`` both stem to ``partei``) count once, as
    in the Whoosh queries the ranking was tuned on."""

    def once(items: Iterable[syntax.Node]) -> list[syntax.Node]:
        unique = {leaf_identity(i) if isinstance(i, syntax.Words) else i: i for i in reversed(list(items))}
        return list(reversed(unique.values()))

    return _evaluate(node, documents, leaf_scores, once) or {}


def _evaluate(node, documents, leaf_scores, once) -> Scores | None:
    """None stands for a clause with nothing in it to search for (a lone stopword), which
    leaves the clauses around it as they are."""
    if isinstance(node, syntax.Words):
        return leaf_scores(node)
    if isinstance(node, syntax.FILTERS):
        return dict.fromkeys(documents.matching(node), 0.0)
    if isinstance(node, syntax.Not):
        return _conjunction([], [node.item], documents, leaf_scores, once)
    if isinstance(node, syntax.Maybe):
        required = _evaluate(node.required, documents, leaf_scores, once)
        optional = _evaluate(node.optional, documents, leaf_scores, once) or {}
        if required is None:
            return optional or None
        return {docnum: score + optional.get(docnum, 0.0) for docnum, score in required.items()}
    if isinstance(node, syntax.And):
        positive = [item for item in node.items if not isinstance(item, syntax.Not)]
        negative = [item.item for item in node.items if isinstance(item, syntax.Not)]
        return _conjunction(positive, negative, documents, leaf_scores, once)
    results = [
        r
        for r in (_evaluate(item, documents, leaf_scores, once) for item in once(node.items))
        if r is not None
    ]
    if not results:
        return None
    union: Scores = dict(results[0])
    for result in results[1:]:
        for docnum, score in result.items():
            union[docnum] = union.get(docnum, 0.0) + score
    return union


def _conjunction(positive, negative, documents, leaf_scores, once) -> Scores | None:
    musts = [r for r in (_evaluate(item, documents, leaf_scores, once) for item in positive) if r is not None]
    excluded = [
        r for r in (_evaluate(item, documents, leaf_scores, once) for item in negative) if r is not None
    ]
    if not musts and not excluded:
        return None
    if musts:
        smallest = min(musts, key=len)
        result = {
            docnum: sum(must[docnum] for must in musts)
            for docnum in smallest
            if all(docnum in must for must in musts)
        }
    else:
        result = dict.fromkeys(documents.universe, 0.0)
    for scores in excluded:
        for docnum in scores.keys() & result.keys():
            del result[docnum]
    return result


def reading_scores(
    reading: Reading,
    searcher: Searcher,
    names_scale: float,
    names_excluded: frozenset[int],
    budget: Budget | None = None,
    documents: Documents | None = None,
) -> Scores | None:
    """A leaf's score per document: its readings' BM25F, a prefix's boost, and its name
    keys' BM25 times ``names_scale`` for documents outside ``names_excluded``. A single
    term's postings are scored a block at a time (:func:`_add_term`) when ``documents``
    holds the field lengths; phrases go through Whoosh's matchers."""
    if reading.is_empty():
        return None
    budget = budget or Budget()
    budget.check()
    scores: Scores = {}
    context = searcher.context()
    for part in reading.parts:
        fast = BLOCK_READS and documents is not None and isinstance(part, q.Term)
        if not (fast and _add_term(scores, part, searcher, documents, budget)):
            _add(scores, part.matcher(searcher, context), budget)
    for prefix in reading.prefixes:
        for docnum in _prefix_docs(searcher, prefix, budget):
            scores[docnum] = scores.get(docnum, 0.0) + prefix.boost
    for name in reading.names:
        fast = BLOCK_READS and documents is not None
        if not (fast and _add_term(scores, name, searcher, documents, budget, names_scale, names_excluded)):
            _add(scores, name.matcher(searcher, context), budget, names_scale, names_excluded)
    return scores


def _add_term(
    scores: Scores,
    term: q.Term,
    searcher: Searcher,
    documents: Documents,
    budget: Budget,
    scale: float = 1.0,
    excluded: frozenset[int] = frozenset(),
) -> bool:
    """Add ``term``'s BM25F to ``scores`` as Whoosh's matcher and scorer would, to the last
    bit (the same expression, in the same order), reading its postings a block at a time
    and its documents' field lengths from a list read once per commit: Whoosh spent about
    10 µs a posting in matcher, scorer and column calls. False if the term's matchers or
    scorer are not the ones this reads (then the caller goes through Whoosh)."""
    fieldname, text = term.fieldname, term.text
    reader = searcher.reader()
    if (fieldname, text) not in reader:
        return True
    scorer = searcher.weighting.scorer(searcher, fieldname, text)
    if not isinstance(scorer, scoring.BM25FScorer):
        return False
    postings = _live_postings(reader, fieldname, text)
    lengths = documents.field_lengths(fieldname)
    if postings is None or lengths is None:
        return False
    idf, avgfl, b, k1, boost = scorer.idf, scorer.avgfl, scorer.B, scorer.K1, term.boost
    get = scores.get
    for count, (docnum, tf) in enumerate(postings, start=1):
        if docnum in excluded:
            continue
        score = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths[docnum] / avgfl)))
        if boost != 1.0:
            score = score * boost
        scores[docnum] = get(docnum, 0.0) + score * scale
        if count % CHECK_EVERY == 0:
            budget.check()
    return True


def _live_postings(reader, fieldname: str, text: str) -> list[tuple[int, float]] | None:
    """(document number, weight) of a term's live postings across the reader's segments,
    read a block at a time from Whoosh's own leaf matchers; None for a matcher of another kind."""
    found: list[tuple[int, float]] = []
    for leaf, offset in reader.leaf_readers():
        if (fieldname, text) not in leaf:
            continue
        matcher = leaf.postings(fieldname, text)
        deleted: frozenset[int] | set[int] = frozenset()
        if isinstance(matcher, FilterMatcher):
            if not matcher._exclude:
                return None
            deleted, matcher = matcher._ids, matcher.child
        if not hasattr(matcher, "_read_ids") or not hasattr(matcher, "_next_block"):
            return None
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._weights is None:
                matcher._read_weights()
            start = matcher._i
            found.extend(
                (docnum + offset, weight)
                for docnum, weight in zip(matcher._ids[start:], matcher._weights[start:], strict=True)
                if docnum not in deleted
            )
            matcher._next_block()
    return found


def ideal_score(queries: Iterable[q.Query], searcher: Searcher) -> float:
    """The most any one of ``queries`` (alternatives) can weigh: its boost times the IDF of
    its terms. A yardstick of the query, whichever documents match it."""
    weights = [
        query.boost * sum(searcher.idf(query.fieldname, term) for term in _terms_of(query))
        for query in queries
    ]
    return max(weights, default=0.0)


def _terms_of(query: q.Query) -> list[str]:
    if isinstance(query, q.Phrase):
        return list(query.words)
    if isinstance(query, q.Term):
        return [query.text]
    return []


def _add(
    scores: Scores, matcher, budget: Budget, scale: float = 1.0, excluded: frozenset[int] = frozenset()
) -> None:
    get = scores.get
    read = 0
    while matcher.is_active():
        docnum = matcher.id()
        if docnum not in excluded:
            scores[docnum] = get(docnum, 0.0) + matcher.score() * scale
        matcher.next()
        read += 1
        if read % CHECK_EVERY == 0:
            budget.check()


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
