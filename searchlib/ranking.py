"""BM25F over per-language fields, with statistics taken per language, of live documents.

Whoosh's BM25F divides a field's total length by the number of *all* documents to
get the average field length. With one field per language, that makes every
language's documents look several times longer than average (twelve times in a
twelve-language index), which saturates term frequency and skews the length
normalization. Here each field's statistics count only the documents filed under
its language.

And only live ones: Whoosh counts a deleted or replaced document in document
frequencies and field lengths until a merge, so an index ranked differently after
replacements than a fresh build of the same documents. Here document frequencies count
live postings, and a field's total length sums its live documents' lengths as Whoosh
stores them per document (one byte each), which a fresh build, a parallel one and a
merged one all share exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import log
from typing import Any, Protocol

import attrs
from whoosh import scoring


@attrs.frozen
class Ranking:
    """Knobs of the multilingual ranking, tuned on the benchmarks' tuning splits."""

    k1: float = 1.2
    b: float = 0.75
    title_boost: float = 0.7
    language_sharpness: float = 1.0  # γ in weight = (p / p_max) ** γ
    min_language_weight: float = 0.01
    idf_per_language: bool = True
    # A cross-script name hit's weight, as a share of what the query's words weigh in their
    # own languages (Index._names_scale). Tuned on XQuAD's tuning split: 0.10 keeps every
    # language's MRR@10; 0.13 cost English .004 (benchmarks.md).
    names_weight: float = 0.10
    names_max_df: float = 0.05  # name keys in more of the documents than this are noise


DEFAULT_RANKING = Ranking()


class LiveStatistics(Protocol):
    """What the ranking needs to know of the live documents (searchlib.matching.Documents)."""

    def doc_frequency(self, fieldname: str, text: str) -> int: ...

    def field_length(self, fieldname: str) -> int: ...


class LanguageBM25F(scoring.BM25F):
    """BM25F whose average field length (and optionally IDF) is per language.

    ``field_docs`` maps a field name to the number of documents filed under its
    language; fields not in it fall back to Whoosh's whole-index statistics.
    ``statistics``, when set, gives document frequencies and field lengths of live
    documents only.
    """

    def __init__(self, ranking: Ranking, field_docs: Mapping[str, int]) -> None:
        super().__init__(B=ranking.b, K1=ranking.k1)
        self.field_docs = dict(field_docs)
        self.idf_per_language = ranking.idf_per_language
        # what, with the commit, decides a term's parameters: its scores are kept under them
        self.knobs = (ranking.b, ranking.k1, ranking.idf_per_language)
        self.statistics: LiveStatistics | None = None
        # per field, with ``statistics`` set (one commit's): its shape, None if not scored here
        self._shapes: dict[str, tuple[float, float, float] | None] = {}

    def idf(self, searcher: Any, fieldname: str, text: str) -> float:
        parent = searcher.get_parent()
        if self.statistics is not None:
            df = self.statistics.doc_frequency(fieldname, text)
        else:
            df = parent.doc_frequency(fieldname, text)
        return self.idf_of(parent, fieldname, df)

    def live_idf(self, searcher: Any) -> Callable[[str, str], float]:
        """:meth:`idf` under ``searcher`` as a function of (fieldname, text), without the
        searcher's cache of IDFs in between: a search asks each term once, and reading the
        term's live postings (kept by ``statistics``) is the cost either way."""
        parent = searcher.get_parent()
        frequency = self.statistics.doc_frequency if self.statistics is not None else parent.doc_frequency
        idf_of = self.idf_of
        return lambda fieldname, text: idf_of(parent, fieldname, frequency(fieldname, text))

    def idf_of(self, parent: Any, fieldname: str, df: int) -> float:
        """The IDF of a term found in ``df`` documents of ``fieldname``."""
        docs = self.field_docs.get(fieldname) if self.idf_per_language else None
        return log((docs or parent.doc_count_all()) / (df + 1)) + 1

    def scorer(self, searcher: Any, fieldname: str, text: str, qf: int = 1) -> scoring.BaseScorer:
        docs = self.field_docs.get(fieldname)
        if not docs or not searcher.schema[fieldname].scorable:
            return super().scorer(searcher, fieldname, text, qf)
        idf = searcher.get_parent().idf(fieldname, text)
        return _Scorer(searcher, fieldname, text, *self._shape(searcher, fieldname), qf, idf)

    def parameters(self, searcher: Any, fieldname: str, df: int) -> tuple[float, float, float, float] | None:
        """(IDF, average field length, B, K1) of a term in ``df`` documents of ``fieldname``,
        as :meth:`scorer` would score it without reading the term; None where it would hand
        the term to Whoosh's own scorer."""
        if fieldname in self._shapes:
            shape = self._shapes[fieldname]
        else:
            scored = self.field_docs.get(fieldname) and searcher.schema[fieldname].scorable
            shape = self._shape(searcher, fieldname) if scored else None
            if self.statistics is not None:  # the commit's: the same for every later search
                self._shapes[fieldname] = shape
        if shape is None:
            return None
        return self.idf_of(searcher.get_parent(), fieldname, df), *shape

    def _shape(self, searcher: Any, fieldname: str) -> tuple[float, float, float]:
        """(average field length, B, K1) of a field filed under one language."""
        parent = searcher.get_parent()
        if self.statistics is not None:
            total = self.statistics.field_length(fieldname)
        else:
            total = parent.field_length(fieldname)
        avgfl = (total / self.field_docs[fieldname]) or 1
        return avgfl, self._field_B.get(fieldname, self.B), self.K1


class _Scorer(scoring.BM25FScorer):
    """Whoosh's BM25F scorer with the average field length given, set *before* ``setup``
    computes the maximum scores that let Whoosh skip blocks of postings (set after, those
    bounds were too low and documents that belonged in the top hits were skipped)."""

    def __init__(
        self, searcher: Any, fieldname: str, text: str, avgfl: float, B: float, K1: float, qf: int, idf: float
    ) -> None:
        self.idf = idf
        self.avgfl = avgfl
        self.B, self.K1, self.qf = B, K1, qf
        self.setup(searcher, fieldname, text)
