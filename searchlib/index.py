"""A searchlib index: fielded documents in a Whoosh index on disk.

Whoosh keeps parts of an index as pickles; searchlib reads them only through
:mod:`searchlib.safepickle`, so no index, whoever wrote it, runs code when it is opened
or searched (docs/security.md).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import threading
import time
import weakref
import zlib
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

import attrs
from whoosh import index as whoosh_index
from whoosh.codec.base import Segment
from whoosh.fields import Schema
from whoosh.index import EmptyIndexError, LockError
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

import analyzers
from searchlib import arrays, building, commits, facets, filters, matching, ordering, query, syntax, workers
from searchlib import highlight as highlighting
from searchlib.building import AddResult, Ledger
from searchlib.documents import Document
from searchlib.errors import (
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    SearchlibError,
    UntrustedIndexError,
)
from searchlib.fields import Field, FieldError, Text, declared, text_field
from searchlib.ranking import DEFAULT_RANKING, LanguageBM25F, Ranking
from searchlib.schema import NAMES, body_field, build_schema, chain_versions, title_field, whoosh_fields_of
from searchlib.storage import INDEX_NAME, DurableFileStorage, create_whoosh, open_whoosh

# What Whoosh's readers raise on damaged bytes (a truncated file, a flipped length).
_DAMAGE_ERRORS = (
    EOFError,
    struct.error,
    pickle.UnpicklingError,
    zlib.error,
    MemoryError,
    AssertionError,
    IndexError,
    KeyError,
    ValueError,
    OverflowError,
    UnicodeDecodeError,
)
MEMORY_MB = 256  # the default for Index.memory_mb
LOCK_TIMEOUT_S = 30.0
Stored = Mapping[str, object]  # a document's stored fields
STILL_S = 2.0  # a directory unchanged this long is not listed again to find a new commit
NAMES_MIN_DF_CUTOFF = 20  # a small index keeps every name key


@attrs.frozen
class Hit:
    """One ranked result. ``snippet`` is HTML-escaped with matches in ``<em>``."""

    id: str
    score: float
    title: str
    lang: str
    snippet: str
    date: datetime | None = None
    source: str | None = None
    # The document's declared fields (searchlib.fields) as stored, and snippets of its
    # declared text fields where the query matched them.
    fields: dict[str, object] = attrs.field(factory=dict, hash=False)
    highlights: dict[str, str] = attrs.field(factory=dict, hash=False)


class Results(list):
    """One page of a search's hits, in order (a list of :class:`Hit`): ``total`` counts all
    the documents that match, ``facets`` the values of the fields asked for over all of
    them (``{"tags": {"visa": 3}}``), and ``truncated`` names the prefixes (``a*``) that
    matched more terms than a query may expand to, and were read as their most frequent
    ones (docs/usage.md, "Limits")."""

    truncated: tuple[str, ...] = ()
    total: int = 0
    facets: dict[str, dict[object, int]]

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.facets = {}


class Index:
    """Fielded multilingual documents, ranked with BM25F. Use :meth:`create` or :meth:`open`."""

    def __init__(self, path: Path, whoosh: whoosh_index.Index) -> None:
        self.path = path
        self._whoosh = whoosh
        self._threads = threading.local()  # each thread's snapshot: see _snapshot
        # Every live thread's latest, to close with the index; a finished thread's goes with it.
        self._snapshots: weakref.WeakSet[_Snapshot] = weakref.WeakSet()
        self._ranking_generation = 0
        self._lock = threading.Lock()
        self.ranking: Ranking = DEFAULT_RANKING
        self.lock_timeout = LOCK_TIMEOUT_S
        self.memory_mb = MEMORY_MB  # for the postings a build holds before spilling them to disk
        self._facts: tuple[int, matching.Facts] = (-1, matching.Facts())

    # -- lifecycle -----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        fields: Mapping[str, Field] | None = None,
        chain_versions: Mapping[str, int] | None = None,
    ) -> Index:
        """A new, empty index at ``path`` (a directory, made if missing and empty if present),
        with the fields ``fields`` declares beside searchlib's own (:mod:`searchlib.fields`).
        ``chain_versions`` picks older analysis chains for some languages (``{"ar": 1}``:
        searchlib 0.1's Arabic light stems), to compare or to match an older index."""
        path = Path(path)
        schema = _schema_with(fields, chain_versions)
        if exists(path):
            raise SearchlibError(f"{path}: an index already exists here")
        if path.is_dir() and any(path.iterdir()):
            raise SearchlibError(
                f"{path}: the directory is not empty and holds no readable searchlib index; "
                "not creating one there (it would delete files it did not write)"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
            whoosh = create_whoosh(path, schema)
        except OSError as error:
            raise SearchlibError(f"{path}: cannot create an index ({error.strerror or error})") from None
        return cls(path, whoosh)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Index:
        """Open the index at ``path``.

        Raises :class:`searchlib.UntrustedIndexError` for an index holding a pickle that
        names code (nothing of it runs), :class:`searchlib.SearchlibError` for one that
        cannot be read.
        """
        path = Path(path)
        try:
            whoosh = open_whoosh(path)
        except (EmptyIndexError, FileNotFoundError, NotADirectoryError):
            exists(path)  # raises for a directory with an index's files and no table of contents
            raise IndexNotFoundError(f"{path}: no searchlib index here") from None
        except UntrustedIndexError as error:
            raise UntrustedIndexError(f"{path}: {error}") from None
        except SearchlibError:
            raise
        except Exception as error:
            raise SearchlibError(f"{path}: cannot open the index ({error})") from None
        return cls(path, whoosh)

    def close(self) -> None:
        with self._lock:
            for snapshot in list(self._snapshots):
                snapshot.searcher.close()
            self._snapshots.clear()
            self._whoosh.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self._current_searcher().doc_count()

    def __contains__(self, doc_id: object) -> bool:
        """Whether a document with this id is in the index."""
        return isinstance(doc_id, str) and self._current_searcher().document_number(id=doc_id) is not None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Errors that damaged index files make Whoosh's readers raise, as one
        :class:`IndexCorruptError`. A commit's checksums find damage before its files are
        read; this covers indexes written before searchlib recorded them."""
        try:
            yield
        except (SearchlibError, query.QueryError):
            raise
        except OSError as error:  # permission denied, too many open files
            where = error.filename or self.path
            raise SearchlibError(f"{where}: cannot read ({error.strerror or error})") from None
        except _DAMAGE_ERRORS as error:
            raise IndexCorruptError(
                f"{self.path}: the index cannot be read ({type(error).__name__}: {error}); "
                "`searchlib check` names the damaged file"
            ) from None

    @property
    def chain_versions(self) -> dict[str, int]:
        """The version of each language's analysis chain this index's terms were made by
        (:data:`analyzers.VERSIONS`). Searches and additions use these versions, so an index
        made by an older release keeps working; a new index gets the current ones."""
        with self._reading():
            return self._snapshot().chain_versions

    @property
    def fields(self) -> dict[str, Field]:
        """The fields declared in this index, by name (none in an index made by 0.1)."""
        with self._reading():
            return dict(self._snapshot().declared)

    def document(self, doc_id: str) -> Document | None:
        """The indexed document with this id, as stored (its language as identified), or None."""
        if not isinstance(doc_id, str):
            raise TypeError(f"a document id is text (str), not {type(doc_id).__name__}")
        with self._reading():
            snapshot = self._snapshot()
            docnum = snapshot.searcher.document_number(id=doc_id)
            if docnum is None:
                return None
            stored = snapshot.searcher.stored_fields(docnum)
        return Document(
            id=stored["id"],
            title=stored.get("title", ""),
            body=stored.get("body", ""),
            lang=stored.get("lang"),
            date=stored.get("date"),
            source=stored.get("source"),
            fields={name: stored[name] for name in snapshot.declared if name in stored},
        )

    def kinds(self) -> dict[str, str]:
        """Each field a query can name (``name:value``, ``filter=``), with its kind: text,
        keyword, numeric, date, boolean or lang."""
        with self._reading():
            return dict(self._snapshot().kinds())

    def add_field(self, name: str, field: Field) -> None:
        """Declare a field in an existing index, in one commit. Documents already indexed do
        not have it (re-add them to give them values)."""
        if not isinstance(field, Field):
            raise FieldError(f"add_field({name!r}, ...): expected a field of searchlib.fields, not {field!r}")
        with self._writer() as writer:
            try:
                made = whoosh_fields_of(writer.schema, name, field)
            except ValueError as error:
                raise FieldError(str(error)) from None
            for whoosh_name, whoosh_field in made.items():
                writer.add_field(whoosh_name, whoosh_field)

    # -- writing -------------------------------------------------------------------

    def add(self, documents: Iterable[Document], jobs: int | None = None) -> AddResult:
        """Add documents, replacing any with the same id, in one commit.

        Within one call the last document with a given id wins. A document identical to
        the indexed one with its id is left alone, and when nothing changed nothing is
        written: re-indexing an unchanged directory costs reading it. ``jobs`` > 1
        analyzes and writes in that many processes, each making its own segment
        (searched together, with the same ranking; :meth:`optimize` merges them);
        ``jobs=None`` uses one process for a small input (under 262,144
        characters) and one per core, up to 4, for a larger one, except in a process
        running other threads (:func:`searchlib.workers.automatic`).
        Memory stays within about :attr:`memory_mb` whatever the number of documents.
        """
        if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
            raise SearchlibError(f"jobs must be a whole number ≥ 1 or None, not {jobs!r}")
        return self.build(lambda ledger: workers.build(self.path, documents, jobs, self.memory_mb, ledger))

    def build(self, build_segments: Callable[[Ledger], dict[Hashable, Segment | None]]) -> AddResult:
        """Commit the segments that ``build_segments`` makes, holding the write lock meanwhile.

        The way documents are added in parallel here and on a Dask cluster
        (:mod:`searchlib.distributed`): ``build_segments`` runs
        :class:`~searchlib.building.SegmentBuilder` s wherever it likes and records their
        reports in the ledger it is given.
        """
        ledger = Ledger()
        segments: dict[Hashable, Segment | None] = {}

        def commit(writer: SegmentWriter) -> None:
            try:
                building.commit(writer, segments, ledger)
            except BaseException:  # the built segments are in no commit: their files go
                for segment in filter(None, segments.values()):
                    commits.delete_segment(writer.storage, segment)
                raise

        with self._writer(commit):
            segments.update(build_segments(ledger))
        return ledger.result()

    def delete(self, ids: str | Iterable[str]) -> int:
        """Delete documents by id (one id, or several); returns how many were found."""
        ids = [ids] if isinstance(ids, str) else list(ids)
        if not all(isinstance(doc_id, str) for doc_id in ids):
            raise TypeError("delete takes a document id or an iterable of ids (str)")
        searcher = self._current_searcher()
        found = [doc_id for doc_id in ids if searcher.document_number(id=doc_id) is not None]
        if found:
            with self._writer() as writer:
                for doc_id in found:
                    writer.delete_by_term("id", doc_id)
        return len(found)

    def delete_copies(self, digests: dict[str, str]) -> list[str]:
        """Delete each document ``old id`` of ``digests`` whose content has that digest
        (:func:`searchlib.building.content_digest`); returns the ids deleted. How an index
        sheds the copies of files that searchlib 0.1 named by their stem."""
        searcher = self._current_searcher()
        stale = []
        for old_id, digest in digests.items():
            docnum = searcher.document_number(id=old_id)
            if docnum is None:
                continue
            stored = searcher.stored_fields(docnum)
            fields = (
                stored.get("title", ""),
                stored.get("body", ""),
                stored.get("date"),
                stored.get("source"),
            )
            if building.content_digest(*fields) == digest:
                stale.append(old_id)
        if stale:
            self.delete(stale)
        return stale

    def optimize(self) -> None:
        """Merge all segments into one: fastest to search, slow to do on a large index."""
        with self._writer(lambda writer: writer.commit(optimize=True)):
            pass

    def _writer(self, commit: Callable[[SegmentWriter], None] = SegmentWriter.commit) -> _Writer:
        try:
            writer = self._whoosh.writer(timeout=self.lock_timeout, limitmb=self.memory_mb)
        except LockError:
            raise IndexLockedError(
                f"{self.path}: another process is writing to this index "
                f"(waited {self.lock_timeout:g} s for its lock)"
            ) from None
        except OSError as error:  # a read-only directory, or a link planted as the lock file
            raise SearchlibError(
                f"{self.path}: cannot take the write lock ({error.strerror or error})"
            ) from None
        return _Writer(writer, self.path, commit)

    # -- reading -------------------------------------------------------------------

    def languages(self) -> list[str]:
        """The language codes of the documents in the index."""
        return list(self.language_counts())

    def language_counts(self) -> dict[str, int]:
        """Documents per language code."""
        with self._reading():
            return dict(self._snapshot().language_counts)

    def search(
        self,
        text: str,
        limit: int = 10,
        lang: str | None = None,
        highlight: bool = True,
        cross_script: bool = True,
        timeout_s: float | None = None,
        filter: Mapping[str, object] | None = None,
        sort: str | Iterable[str] | None = None,
        offset: int = 0,
        facets: str | Iterable[str] | None = None,
    ) -> Results:
        """The page of hits for ``text`` from ``offset`` on, at most ``limit``; ``lang=None``:
        its language is unknown.

        ``text`` is in the query language of docs/usage.md (words, phrases, AND/OR/NOT,
        field filters such as ``tags:visa`` or ``price:[1 TO 10]``). ``filter`` restricts the
        same way (:mod:`searchlib.filters`: a value equals, a list is any of, a tuple an
        inclusive range); an empty ``text`` with a filter lists the filtered documents.
        Hits come by score, then date (newest first), then id, or by the fields ``sort``
        names (``"-price"``, ``["-date", "title"]``; documents missing a value last); either
        way they are exactly that slice of the whole order. ``facets`` counts the values of
        the fields it names over all matching documents (``Results.facets``);
        ``Results.total`` counts those documents.

        ``cross_script`` also matches names written in other scripts (``АСЕАН`` finds
        ``ASEAN`` and ``آسيان``), weighted below matches in the query's own language.
        ``highlight=False`` leaves snippets empty, for callers that only need the ranking.
        ``timeout_s`` bounds the time the search may take; past it, it raises
        :class:`searchlib.QueryError` (no partial answer: a partial ranking would be
        silently wrong). Every query's work is bounded anyway (docs/usage.md, "Limits").
        Raises :class:`searchlib.QueryError` for a query that cannot be run, and
        :class:`searchlib.UntrustedIndexError` if a hit's stored fields name code.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise query.QueryError(f"limit must be a whole number ≥ 1, not {limit!r}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise query.QueryError(f"offset must be a whole number ≥ 0, not {offset!r}")
        if timeout_s is not None and not timeout_s > 0:
            raise query.QueryError(f"timeout_s must be a number of seconds > 0, not {timeout_s}")
        request = _Request(
            text, limit, lang, highlight, cross_script, timeout_s, filter, sort, offset, facets
        )
        try:
            with self._reading():
                return self._search(request)
        except UntrustedIndexError as error:
            raise UntrustedIndexError(f"{self.path}: {error}") from None

    def _search(self, request: _Request) -> Results:
        snapshot = self._snapshot()
        with analyzers.using_versions(snapshot.chain_versions):  # query and snippets, as the terms were made
            return self._search_in(snapshot, request)

    def _search_in(self, snapshot: _Snapshot, request: _Request) -> Results:
        budget = matching.Budget(timeout_s=request.timeout_s)
        searcher, documents, declared_fields = snapshot.searcher, snapshot.documents, snapshot.declared
        kinds = snapshot.kinds()
        node = query.parse(request.text, kinds)
        restrictions = filters.filter_nodes(request.filter, kinds)
        sort_keys = ordering.sort_keys(request.sort, declared_fields)
        facet_names = facets.facet_names(request.facets, declared_fields)
        if node is None and not restrictions:  # nothing asked for: nothing found
            nothing = Results()
            nothing.facets = {name: {} for name in facet_names}
            return nothing
        if restrictions:
            parts = ([node] if node is not None else []) + restrictions
            node = parts[0] if len(parts) == 1 else syntax.And(tuple(parts))
        leaves = syntax.text_leaves(node)
        if len(leaves) > query.MAX_QUERY_WORDS:
            raise query.QueryError(f"the query has more than {query.MAX_QUERY_WORDS} words")
        languages = list(documents.languages)
        words = query.query_words(node)
        weights = query.language_weights(node, languages, request.lang, self.ranking, words)
        read_codes = [code for code in languages if analyzers.canonical(code) in weights]
        name_keys = None
        if (
            request.cross_script
            and NAMES in searcher.schema
            and self.ranking.names_weight > 0
            and len(read_codes) < len(languages)
        ):
            most = max(NAMES_MIN_DF_CUTOFF, int(self.ranking.names_max_df * searcher.doc_count()))
            name_keys = query.name_keys_of(
                words, weights, lambda key: documents.postings_count(NAMES, key) <= most
            )
        read_docs = documents.mask(read_codes) if name_keys else None  # no name hits there
        text_fields = snapshot.text_fields()
        reading = query.Reader(weights, self.ranking, name_keys, text_fields).read
        leaf_readings = [reading(leaf) for leaf in leaves]
        names_scale = self._names_scale(leaf_readings, searcher) if name_keys else 0.0
        budget.prefixes = sum(
            len(weights) * (1 if leaf.field else 2 + len(text_fields))
            for leaf in leaves
            if leaf.kind == "prefix"
        )

        def parts_of(read: query.Reading) -> list[matching.Part] | None:
            return matching.reading_parts(read, searcher, names_scale, read_docs, budget, documents)

        matches = matching.evaluate(node, documents, reading, parts_of)
        marked = _MarkedTerms(leaf_readings, weights) if request.highlight else None
        hits = Results()
        hits.truncated = tuple(dict.fromkeys(budget.truncated))
        hits.total = len(matches)
        hits.facets = facets.count(
            facet_names, set(matches.ids.tolist()) if facet_names else set(), documents, declared_fields
        )
        page = ordering.ordered(matches, request.offset, request.limit, documents, sort_keys, declared_fields)
        stored_page = [(docnum, documents.stored_fields(docnum)) for _, docnum in page]
        if marked is not None:
            marked.read_positions(documents, stored_page)
        marks_fields = marked is not None and text_fields  # declared text fields have snippets too
        for (score, _), (docnum, stored) in zip(page, stored_page, strict=True):
            own = {name: stored[name] for name in declared_fields if name in stored}
            hits.append(
                Hit(
                    id=stored["id"],
                    score=round(score, matching.SCORE_DIGITS),
                    title=stored.get("title", ""),
                    lang=stored["lang"],
                    snippet=marked.snippet(stored, docnum=docnum) if marked is not None else "",
                    date=stored.get("date"),
                    source=stored.get("source"),
                    fields=own,
                    highlights=marked.highlights(stored, text_fields) if marks_fields else {},
                )
            )
        return hits

    def _names_scale(self, leaf_readings: list[query.Reading], searcher: Searcher) -> float:
        """What a name key's BM25 is multiplied by: ``names_weight`` times the query's ideal
        score in its own languages (its words' summed) over the ideal of its best name key.
        A name hit thus weighs the same whatever else matches, and stays below what the
        query's words can weigh in their own language (``АСЕАН`` ranks the Russian article
        above ``ASEAN``)."""
        idf = searcher.weighting.live_idf(searcher)
        names = max((matching.ideal_score(reading.names, idf) for reading in leaf_readings), default=0.0)
        if not names:  # no name key in the index: nothing to scale
            return 0.0
        main = 0.0
        for reading in leaf_readings:
            main += matching.ideal_score(reading.parts, idf)
        return self.ranking.names_weight * main / names

    def _current_searcher(self) -> Searcher:
        with self._reading():
            return self._snapshot().searcher

    def _snapshot(self) -> _Snapshot:
        """This thread's searcher of the latest commit, with its language counts.

        Each thread has its own: Whoosh's postings readers seek and then read a shared file
        object, so two threads searching through one reader could read each other's
        blocks (tests/test_reliability.py found it). A searcher that a newer commit
        outdates is dropped, not closed: the search that asked may still be reading it;
        its files close when it is collected.
        """
        current = getattr(self._threads, "snapshot", None)
        if (
            current is not None
            and current.generation == self._ranking_generation
            and current.is_latest(self.path)
        ):
            return current
        weighting = LanguageBM25F(self.ranking, {})
        searcher = matching.bound_caches(self._whoosh.searcher(weighting=weighting))
        documents = matching.Documents(searcher, self._facts_of(searcher), self._whoosh.storage)
        counts = {code: len(docs) for code, docs in documents.languages.items()}
        fields = declared(searcher.schema)
        text_names = [name for name, field in fields.items() if isinstance(field, Text)]
        weighting.field_docs = _field_docs(counts, text_names)
        weighting.statistics = documents
        fresh = self._threads.snapshot = _Snapshot(
            searcher, counts, self._ranking_generation, documents, fields
        )
        with self._lock:
            if current is not None:
                self._snapshots.discard(current)
            self._snapshots.add(fresh)
        return fresh

    def _facts_of(self, searcher: Searcher) -> matching.Facts:
        """The facts of the commit ``searcher`` reads, shared by every thread's searcher of it:
        a server's threads then read the documents' languages, lengths and columns once per
        commit, not once each."""
        generation = searcher.reader().generation()
        if not isinstance(generation, int) or generation < 0:  # an empty index's reader has none
            return matching.Facts()
        with self._lock:
            if self._facts[0] != generation:
                self._facts = (generation, matching.Facts())
            return self._facts[1]

    def set_ranking(self, ranking: Ranking) -> None:
        """Rank with other parameters from now on (the benchmarks tune with this)."""
        with self._lock:
            self.ranking = ranking
            self._ranking_generation += 1

    def stats(self) -> dict[str, object]:
        """Documents per language, distinct terms, size on disk, and the chain versions."""
        reader = self._current_searcher().reader()
        terms = sum(
            1 for field in reader.indexed_field_names() if "_" in field for _ in reader.lexicon(field)
        )
        size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
        return {
            "path": str(self.path),
            "documents": reader.doc_count(),
            "languages": self.language_counts(),
            "terms": terms,
            "size_bytes": size,
            "chain_versions": self.chain_versions,
        }


@attrs.frozen
class _Request:
    """One search's arguments, as :meth:`Index.search` takes them."""

    text: str
    limit: int
    lang: str | None
    highlight: bool
    cross_script: bool
    timeout_s: float | None
    filter: Mapping[str, object] | None
    sort: str | Iterable[str] | None
    offset: int
    facets: str | Iterable[str] | None


@attrs.define(eq=False)
class _Snapshot:
    searcher: Searcher
    language_counts: dict[str, int]
    generation: int  # of the ranking it scores with
    documents: matching.Documents
    declared: dict[str, Field]  # the fields declared in its schema
    seen_mtime: int | None = None  # the directory's modification time when it was last current
    _kinds: Mapping[str, str] | None = attrs.field(default=None, init=False)
    _text_fields: Mapping[str, float] | None = attrs.field(default=None, init=False)

    def is_latest(self, path: Path) -> bool:
        """Whether this snapshot reads the latest commit. A commit renames its table of
        contents into the directory, which changes the directory's modification time; while
        that time is the one seen when this snapshot was last found current, and lies more
        than STILL_S in the past (a change within the clock's resolution cannot hide), the
        directory is not listed again (that was 30 µs of each search)."""
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            mtime = None
        if mtime is not None and mtime == self.seen_mtime and time.time_ns() - mtime > STILL_S * 1e9:
            return True
        latest = self.searcher.up_to_date()
        self.seen_mtime = mtime if latest else None
        return latest

    @property
    def chain_versions(self) -> dict[str, int]:
        return chain_versions(self.searcher.schema)

    def kinds(self) -> Mapping[str, str]:
        """What ``name:value`` means for each field a query can name."""
        if self._kinds is None:
            own = {name: field.kind for name, field in self.declared.items() if field.kind != "stored"}
            self._kinds = MappingProxyType({**syntax.BUILTIN_KINDS, **own})
        return self._kinds

    def text_fields(self) -> Mapping[str, float]:
        """The declared text fields, with their boosts."""
        if self._text_fields is None:
            found = {name: field.boost for name, field in self.declared.items() if isinstance(field, Text)}
            self._text_fields = MappingProxyType(found)
        return self._text_fields


class _Writer:
    """A Whoosh writer that commits with ``commit`` on success and cancels on any error.

    An OS error (a full disk, a read-only directory) becomes a :class:`SearchlibError`
    naming the index; the previous commit is still the current one.
    """

    def __init__(self, writer: SegmentWriter, path: Path, commit: Callable[[SegmentWriter], None]) -> None:
        self._writer = writer
        self._path = path
        self._commit = commit

    def __enter__(self) -> SegmentWriter:
        return self._writer

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self._commit(self._writer)
                return
            except BaseException as error:
                self._give_up(error)
                raise
        self._give_up(exc)

    def _give_up(self, error: BaseException) -> None:
        """Cancel, release the lock and delete the writer's own new segment (its term and
        postings files are made when it starts), whatever fails: after a full disk or with
        no descriptor left, cancelling can fail the same way (Whoosh 2.7.4 writes its
        columns as it cancels), and nothing half-written may stay: first, with the lock still
        held, any file no commit lists (a builder that ran out of descriptors, or a worker
        stopped when another failed, could not delete its own). An OS error becomes a
        :class:`SearchlibError` naming the index."""
        commits.let_go(error)
        writer = self._writer
        with contextlib.suppress(OSError):  # while the lock is held: what builders could not delete
            commits.discard_uncommitted(writer.storage.folder)
        if not writer.is_closed:
            with contextlib.suppress(Exception):
                writer.cancel()
        if not writer.is_closed and writer.writelock is not None:
            with contextlib.suppress(Exception):
                writer.writelock.release()
            writer.is_closed = True
        commits.let_go(error)
        with contextlib.suppress(OSError):
            commits.delete_segment(writer.storage, writer.newsegment)
        if isinstance(error, OSError):
            raise SearchlibError(
                f"{self._path}: cannot write the index ({error.strerror or error}); it is unchanged"
            ) from error


class _MarkedTerms:
    """A search's terms to mark in snippets, collected once per language, not per hit."""

    def __init__(self, readings: list[query.Reading], read_keys: Iterable[str] = ()) -> None:
        self._terms: dict[str, set[str]] = {}
        for reading in readings:
            for key, terms in reading.terms.items():
                self._terms.setdefault(key, set()).update(terms)
        self._name_keys = {term.text for reading in readings for term in reading.names}
        self._read_keys = frozenset(read_keys)
        # document number: where its body's words start and how long they are (None: not kept), and its
        # matched words (positions in order, and each one's term; None in a language the query
        # was not read in: its name keys are found in its words)
        self._positions: dict[int, tuple[Sequence[int], Sequence[int] | None, arrays.Matched | None]] = {}

    def read_positions(self, documents: matching.Documents, page: list[tuple[int, Stored]]) -> None:
        """Where the query's terms occur in the bodies of ``page``'s documents of the languages
        it was read in, from the segments' arrays (:meth:`arrays.SegmentArrays.matched_words`),
        and where every page body's words start and how long they are. Their snippets then
        read one passage, not every word (XQuAD: 230 µs a snippet, most of it analyzing the
        whole text); bodies in other languages are read for their name keys, but not
        tokenized with offsets. A segment whose file keeps no positions leaves its
        documents to the analysis."""
        if not page:
            return
        segments = documents.segments()
        firsts = [offset for offset, _, _ in segments]
        by_place: dict[tuple[str, int], list[int]] = {}
        for docnum, stored in page:
            key = analyzers.canonical(stored["lang"])
            by_place.setdefault((key, bisect_right(firsts, docnum) - 1), []).append(docnum)
        for (key, number), docnums in by_place.items():
            offset, segment, _ = segments[number]
            if segment is None:  # no arrays: these documents are analyzed
                continue
            local = sorted(docnum - offset for docnum in docnums)
            found = None
            if key in self._read_keys:
                found = segment.matched_words(body_field(key), self._terms.get(key, ()), local)
                if found is None:  # no positions kept: these documents are analyzed
                    continue
            for docnum in local:
                starts, lengths = segment.body_words(docnum)
                if starts is not None:
                    matched = None if found is None else found[docnum]
                    self._positions[docnum + offset] = (starts, lengths, matched)

    def snippet(self, stored: Stored, field: str = "body", docnum: int | None = None) -> str:
        """The passage of ``field`` where the query's terms are densest. Name keys are marked
        only in documents of languages the query was not read in: there alone they match
        (and finding them is half the cost of a snippet). A body whose matched positions
        :meth:`read_positions` found needs no analysis, and one whose word starts it found
        no tokenizing with offsets."""
        text = stored.get(field, "")
        starts, lengths, matched = self._positions.get(docnum, _UNREAD) if field == "body" else _UNREAD
        if matched is not None:
            passage = highlighting.passage_at(text, *matched, starts, word_lengths=lengths)
            if passage is not None:
                return passage
        key = analyzers.canonical(stored["lang"])
        names = frozenset() if key in self._read_keys else self._name_keys
        starts = starts if matched is None else None  # matched positions gave none: starts do not fit
        return highlighting.snippet(
            text, stored["lang"], self._terms.get(key, set()), names, word_starts=starts
        )

    def highlights(self, stored: Stored, text_fields: Iterable[str]) -> dict[str, str]:
        """Snippets of the declared text fields where a term of the query is marked."""
        found = {}
        for name in text_fields:
            if isinstance(stored.get(name), str):
                passage = self.snippet(stored, name)
                if highlighting.OPEN in passage:
                    found[name] = passage
        return found


_UNREAD = (None, None, None)  # a body whose words read_positions did not find


def exists(path: Path) -> bool:
    """Whether ``path`` holds a searchlib index (its table of contents is read to tell)."""
    if not path.is_dir():
        return False
    try:
        found = DurableFileStorage(str(path)).index_exists(INDEX_NAME)
    except UntrustedIndexError as error:
        raise UntrustedIndexError(f"{path}: {error}") from None
    except SearchlibError:
        raise
    except Exception as error:  # Whoosh raises assorted errors on a damaged file
        raise IndexCorruptError(f"{path}: the index's table of contents cannot be read ({error})") from None
    if not found and commits.orphaned(os.listdir(path), INDEX_NAME):
        raise IndexCorruptError(
            f"{path}: holds an index's files but no table of contents: a damaged index, "
            "not replaced (`searchlib check --repair` rolls back if an earlier commit is kept)"
        )
    return found


def _field_docs(language_counts: dict[str, int], text_names: Iterable[str] = ()) -> dict[str, int]:
    """Documents per language field, from the documents per language code."""
    per_key: Counter[str] = Counter()
    for code, docs in language_counts.items():
        per_key[analyzers.canonical(code)] += docs
    counts = {NAMES: sum(per_key.values())}
    for key, docs in per_key.items():
        counts[title_field(key)] = counts[body_field(key)] = docs
        for name in text_names:
            counts[text_field(name, key)] = docs
    return counts


def _schema_with(fields: Mapping[str, Field] | None, versions: Mapping[str, int] | None = None) -> Schema:
    """searchlib's schema with ``fields`` declared, or a :class:`FieldError` saying what is wrong."""
    for lang, version in (versions or {}).items():
        known_version = isinstance(version, int) and analyzers.known_version(str(lang), version)
        if not known_version:
            known = ", ".join(f"{key}: 1..{latest}" for key, latest in analyzers.VERSIONS.items())
            raise SearchlibError(f"chain_versions: no chain {lang!r} version {version!r} (known: {known})")
    if fields is not None and not isinstance(fields, Mapping):
        raise FieldError(f"fields must map names to fields of searchlib.fields, not {type(fields).__name__}")
    for name, field in (fields or {}).items():
        if not isinstance(field, Field):
            raise FieldError(
                f"field {name!r}: expected a field of searchlib.fields (Keyword(), ...), not {field!r}"
            )
    try:
        return build_schema(fields, versions)
    except ValueError as error:
        raise FieldError(str(error)) from None


__all__ = ["AddResult", "Hit", "Index", "IndexLockedError", "IndexNotFoundError", "Results", "SearchlibError"]
