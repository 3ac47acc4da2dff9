"""Filing documents into new index segments: here, in worker processes, or on Dask workers.

Every way of adding documents works alike. A :class:`SegmentBuilder` (a Whoosh segment
writer that takes no lock) files documents into a segment of its own and reports where
each one went; a :class:`Ledger` reads the reports, with each document's place in the
input, to decide which copy of each id wins (the last); :func:`commit` makes the new
segments, the superseded copies and the replaced documents one commit. The process that
commits holds the index's write lock for the whole build, so the index the builders
compare against cannot change under them.

Documents reach the builders in chunks of one language each, of at most
:data:`CHUNK_CHARS` characters, and each builder's postings spill to disk past its share
of the memory setting: the memory a build needs is bounded by that setting, the number of
builders and :data:`HELD_CHARS`, not by the corpus.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import json
import os
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import attrs
from whoosh.codec.base import Segment
from whoosh.formats import Format, Positions
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

import analyzers
from searchlib import arrays, commits
from searchlib.documents import Document
from searchlib.fields import Field, check_values, declared, text_field
from searchlib.postings import PostingTable, write_postings
from searchlib.schema import FINGERPRINT, NAMES, body_field, chain_versions, title_field
from searchlib.storage import SealedWriter, open_whoosh

CHUNK_CHARS = 200_000  # text per chunk: enough to amortize a hand-over, small enough to balance
CHUNK_DOCS = 500
HELD_CHARS = 16 * CHUNK_CHARS  # input held back at most to fill chunks of one language each
# A language's first chunk is this large: the workers start sooner, each on a language of
# its own (XQuAD, languages interleaved and identified as chunks are made: the first 200,000
# characters of one language came 0.16 s after the start, of a second 0.28 s).
FIRST_CHUNK_CHARS = CHUNK_CHARS // 16
SCRIPT_SAMPLE = 100  # characters whose script stands for an unknown language in chunking
Terms = Mapping[str, list[int]] | Counter[str]  # a text field's terms: positions, or counts
UNCHANGED = -1  # Filed.position of a document identical to its indexed copy, left alone
# What finish() spends writing each term and each posting, fitted to XQuAD 1x and 4x (one
# process, the 2-core machine of docs/benchmarks.md): 0.90 s for 103,041 terms and 336,520
# postings, 2.19 s for 111,681 and 1,346,080. Only the scheduling of workers uses it.
# The memory setting is shared: a quarter for the analyzers' caches of word forms (a term
# and a word's name keys per form: about 300 bytes, by tracemalloc), the rest for postings.
DIGEST_PIECE = 1 << 20
WORD_CACHE_SHARE = 4
WORD_FORM_BYTES = 300
MIN_WORD_CACHE = 4096
FINISH_TERM_S = 4.7e-6
FINISH_POSTING_S = 1.2e-6


@attrs.frozen
class AddResult:
    """What adding documents did."""

    added: int
    replaced: int
    duplicates: int
    languages: dict[str, int]
    unchanged: int = 0

    def __add__(self, other: AddResult) -> AddResult:
        """What two adds did together (``searchlib index`` commits in batches)."""
        return AddResult(
            self.added + other.added,
            self.replaced + other.replaced,
            self.duplicates + other.duplicates,
            dict(Counter(self.languages) + Counter(other.languages)),
            self.unchanged + other.unchanged,
        )


def word_cache_entries(memory_bytes: int) -> int:
    """How many word forms the analyzers may cache within a build's share of memory."""
    return max(MIN_WORD_CACHE, memory_bytes // WORD_CACHE_SHARE // WORD_FORM_BYTES)


class Filed(NamedTuple):
    """What a builder did with one document."""

    id: str
    position: int  # its document number in the builder's segment, or UNCHANGED
    lang: str
    indexed: bool  # a copy with this id is in the committed index


class SegmentBuilder:
    """Files documents into one new segment of the index at ``path``, without locking it.

    Whoever runs builders must hold the index's write lock until it commits their
    segments (or gives them up): builders compare documents with the committed index.
    """

    def __init__(self, path: str | os.PathLike[str], memory_mb: int) -> None:
        whoosh = open_whoosh(Path(path))
        # Ids are looked up by reading the committed segments, not mapping them: mapped
        # pages count as the builder's memory, and the lookups touch pages all over a
        # large term dictionary (32 MB of 120 at 100 MB of input).
        whoosh.storage.supports_mmap = False
        self._searcher = whoosh.searcher()
        self._keeps_fingerprints = FINGERPRINT in self._searcher.schema  # not in pre-release indexes
        reader = self._searcher.reader()
        self._fingerprints = (
            reader.column_reader(FINGERPRINT)
            if self._keeps_fingerprints and reader.has_column(FINGERPRINT)
            else None
        )
        self._empty = reader.doc_count_all() == 0  # then no document is indexed already
        # The writer supplies the new segment, its stored fields and its files; postings
        # go to the table instead of the writer's pool (see searchlib.postings). It joins
        # the segment's files into one compound file, as Whoosh's own writer does.
        self._writer = SealedWriter(whoosh, _lk=False, limitmb=1)
        budget = max(1, memory_mb) << 20
        analyzers.set_word_cache_size(word_cache_entries(budget))
        self._postings = PostingTable(budget - budget // WORD_CACHE_SHARE, Path(path))
        schema = self._writer.schema
        self._arrays = arrays.ArraysWriter(
            arrays.scored_fields(schema), arrays.positioned_fields(schema), arrays.MAX_WORD_TERMS
        )
        self._count = 0
        self._collected_runs = 0  # runs of postings spilled when young objects were last collected
        self._declared = declared(self._searcher.schema)
        self._chain_versions = chain_versions(self._searcher.schema)

    def __enter__(self) -> SegmentBuilder:
        """Build within ``with``: on an error the segment is given up, and Python's cyclic
        garbage collector is paused until the end.

        Filing allocates millions of small objects and each full collection walks
        everything alive, the postings held included: that was a third of the time of
        analysis (XQuAD, analysis alone: 3.45 s with collections, 2.18 s without).
        A build makes no cyclic garbage (none was found after indexing XQuAD), but in case
        some path does, young objects are collected after each run of postings is spilled:
        the postings held are gone then, and a collection walks little (collecting every 16
        chunks walked each posting once: 4% of a build). Garbage made between two spills
        is thus bounded as the postings held between them are.
        """
        self._collecting = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: object, trace: object) -> None:
        try:
            if kind is not None:
                commits.let_go(error)  # type: ignore[arg-type]
                with contextlib.suppress(Exception):
                    self.cancel()
        finally:
            if self._collecting:
                gc.enable()

    def add(self, documents: Iterable[Document], langs: Iterable[str | None] = ()) -> list[Filed]:
        """File ``documents``; ``langs``, if given, holds each one's language as
        :func:`identified_language` found it already (the process routing chunks to workers
        identifies them, so that each language goes to one worker)."""
        with analyzers.using_versions(self._chain_versions):  # as the index's terms were made
            return self._add(documents, langs)

    def _add(self, documents: Iterable[Document], langs: Iterable[str | None]) -> list[Filed]:
        if self._postings.runs != self._collected_runs:
            gc.collect(1)  # recent objects only: the generations gc.disable() left unscanned
            self._collected_runs = self._postings.runs
        changed = [self._changed(document) for document in documents]
        identified = list(langs) or [
            None if fingerprint is None else identified_language(document)
            for document, fingerprint, _ in changed
        ]
        filed = []
        for (document, fingerprint, indexed), lang in zip(changed, identified, strict=True):
            if fingerprint is None:
                filed.append(Filed(document.id, UNCHANGED, "", True))
                continue
            values, texts, body_spans = fields_of(document, self._declared, lang)
            if self._keeps_fingerprints:
                values[FINGERPRINT] = fingerprint
            self._file(values, texts)
            if document.fields:
                self._file_declared(document.fields)
            body = body_field(analyzers.canonical(values["lang"]))
            starts, ends = arrays.body_word_spans(document.body, body_spans)
            self._arrays.document(self._writer.docnum, starts, body, texts.get(body), ends)
            self._writer.perdocwriter.finish_doc()
            self._writer.docnum += 1
            filed.append(Filed(document.id, self._count, values["lang"], indexed))
            self._count += 1
        return filed

    def _changed(self, document: Document) -> tuple[Document, str | None, bool]:
        """The document (its declared fields checked), its fingerprint (None if it is
        indexed already, unchanged) and whether its id is indexed.

        A chunk's documents are all looked at first, so that the languages of those to
        file are then identified one after another: the model's tables stay in the cache
        (XQuAD 1x, one process: 320 µs a document identified between two documents' analyses,
        201 µs in a row)."""
        if document.fields:  # checked here, wherever the builder runs (a process, a Dask worker)
            document = attrs.evolve(
                document, fields=check_values(self._declared, document.fields, document.id)
            )
        fingerprint = _fingerprint(document)
        docnum = None if self._empty else self._searcher.document_number(id=document.id)
        if docnum is not None and self._stored_fingerprint(docnum) == fingerprint:
            return document, None, True
        return document, fingerprint, docnum is not None

    def _file(self, values: dict[str, object], texts: dict[str, Terms]) -> None:
        """What Whoosh's ``add_document`` does, with the text fields analyzed already."""
        writer = self._writer
        docnum = writer.docnum
        perdoc = writer.perdocwriter
        perdoc.start_doc(docnum)
        for name in sorted(values.keys() | texts.keys()):
            field = writer.schema[name]
            value = values.get(name)
            if name in texts:
                postings, length = _text_postings(field.format, texts[name])
            elif field.indexed:
                items = list(field.index(value))
                postings = [(term, weight, encoded) for term, _, weight, encoded in items]
                length = sum(frequency for _, frequency, _, _ in items) if field.scorable else 0
            else:
                postings, length = [], 0
            if postings:
                self._postings.add(name, docnum, length, postings)
            perdoc.add_field(name, field, value if field.stored else None, length)
            if field.column_type and value is not None:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))

    def _file_declared(self, values: dict[str, object]) -> None:
        """The values of a document's declared fields that are not text (checked already):
        stored, found by their exact terms, and in a column if the field keeps one."""
        writer = self._writer
        for name, value in values.items():
            declaration = self._declared[name]
            if declaration.searchable:
                continue  # filed with the document's text
            field = writer.schema[name]
            postings = {
                term: (term, weight, encoded)
                for item in declaration.terms(value)
                for term, _, weight, encoded in field.index(item)
            }
            if postings:
                self._postings.add(name, writer.docnum, 0, list(postings.values()))
            writer.perdocwriter.add_field(name, field, value, 0)
            column = declaration.column(value)
            if column is not None:
                writer.perdocwriter.add_column_value(name, field.column_type, column)

    def _stored_fingerprint(self, docnum: int) -> str | None:
        return None if self._fingerprints is None else decode(self._fingerprints[docnum])

    def finish_seconds(self) -> float:
        """About how long finish() would take now: the postings are written at the end."""
        return FINISH_TERM_S * self._postings.terms + FINISH_POSTING_S * self._postings.postings

    def finish(self) -> Segment | None:
        """The finished segment, or None if no document was filed in it."""
        if not self._count:
            self.cancel()
            return None
        self._searcher.close()
        writer = self._writer
        writer.perdocwriter.close()
        write_postings(writer.fieldwriter, writer.schema, self._postings.entries(), self._arrays)
        self._postings.close()
        writer._close_segment()
        writer._assemble_segment()
        segment = writer.get_segment()
        with writer.storage.create_file(arrays.file_name(segment)) as out:
            self._arrays.write(out, segment.doc_count_all())  # on an error, cancel() closes it
        return segment

    def cancel(self) -> None:
        """Give up, deleting the segment's files: they are in no commit. Each step is tried
        whatever the others did: a full disk fails finish() midway, after it closed the
        searcher, and the files must go all the same (else the disk stays full)."""
        for step in (
            self._searcher.close,
            self._postings.close,
            self._arrays.close,
            self._writer._close_segment,
        ):
            with contextlib.suppress(Exception):
                step()
        commits.delete_segment(self._writer.storage, self._writer.newsegment)


class Ledger:
    """Which copy of each id wins (the last in input order), and what a build did.

    Keeps about 200 bytes per distinct id, not the documents.
    """

    def __init__(self) -> None:
        self._latest: dict[str, tuple[int, Hashable, Filed]] = {}
        self._superseded: defaultdict[Hashable, list[int]] = defaultdict(list)
        self.total = 0

    def record(self, positions: Sequence[int], builder: Hashable, filed: list[Filed]) -> None:
        """Note ``builder``'s report on the documents at ``positions`` in the input."""
        for position, entry in zip(positions, filed, strict=True):
            self.total += 1
            previous = self._latest.get(entry.id)
            if previous is None or previous[0] < position:
                if previous is not None:
                    self._supersede(previous[1], previous[2])
                self._latest[entry.id] = (position, builder, entry)
            else:
                self._supersede(builder, entry)

    def _supersede(self, builder: Hashable, entry: Filed) -> None:
        if entry.position != UNCHANGED:
            self._superseded[builder].append(entry.position)

    def superseded(self, builder: Hashable) -> list[int]:
        """Positions in ``builder``'s segment of copies that a later one replaces."""
        return self._superseded.get(builder, [])

    def winners(self) -> Iterator[Filed]:
        return (entry for _, _, entry in self._latest.values())

    def replaced_ids(self) -> list[str]:
        """Ids whose committed copy a new one replaces."""
        return [e.id for e in self.winners() if e.indexed and e.position != UNCHANGED]

    def changes(self) -> bool:
        return any(entry.position != UNCHANGED for entry in self.winners())

    def result(self) -> AddResult:
        written = [entry for entry in self.winners() if entry.position != UNCHANGED]
        replaced = sum(entry.indexed for entry in written)
        return AddResult(
            added=len(written) - replaced,
            replaced=replaced,
            duplicates=self.total - len(self._latest),
            languages=dict(Counter(entry.lang for entry in written)),
            unchanged=len(self._latest) - len(written),
        )


def commit(writer: SegmentWriter, segments: dict[Hashable, Segment | None], ledger: Ledger) -> None:
    """Commit the builders' segments with the ledger's deletions, holding ``writer``'s lock.

    Mirrors :meth:`SegmentWriter.commit`, as Whoosh's own multi-process writer does, with
    segments built elsewhere added to the table of contents. Nothing changed: no commit.
    """
    if not ledger.changes():
        writer.cancel()
        commits.delete_segment(writer.storage, writer.newsegment)
        return
    kept = []
    for builder, segment in segments.items():
        if segment is None:
            continue
        for position in ledger.superseded(builder):
            segment.delete_document(position)
        if segment.doc_count():
            kept.append(segment)
    for doc_id in ledger.replaced_ids():
        writer.delete_by_term("id", doc_id)
    final = writer._merge_segments(None, None, None)
    if writer._added:  # the merge policy merged small segments into this writer
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(final + kept)
    writer._finish()


@attrs.define
class Chunk:
    """Documents handed to a builder together, with their places in the input."""

    key: str  # its documents' language, from language_of
    positions: list[int] = attrs.Factory(list)
    documents: list[Document] = attrs.Factory(list)
    chars: int = 0
    langs: list[str] = attrs.Factory(list)  # each document's identified_language, if chunks() identified them

    def add(self, position: int, document: Document, lang: str | None) -> None:
        """Add the input's ``position``-th document (``lang``: its identified language, if known)."""
        self.positions.append(position)
        self.documents.append(document)
        self.chars += chars_of(document)
        if lang is not None:
            self.langs.append(lang)

    def full(self, chars: int = CHUNK_CHARS) -> bool:
        return self.chars >= chars or len(self.documents) >= CHUNK_DOCS

    def split(self, chars: int) -> tuple[Chunk, Chunk]:
        """Its first documents, of about ``chars`` characters (one at least), and the rest."""
        head = Chunk(self.key)
        for position, document, lang in itertools.zip_longest(self.positions, self.documents, self.langs):
            if head.documents and head.chars >= chars:
                break
            head.add(position, document, lang)
        count = len(head.documents)
        rest = Chunk(
            self.key,
            self.positions[count:],
            self.documents[count:],
            self.chars - head.chars,
            self.langs[count:],
        )
        return head, rest


def chunks(documents: Iterable[Document], identify: bool = False) -> Iterator[Chunk]:
    """``documents`` in chunks of one language each, of at most CHUNK_DOCS documents or
    about CHUNK_CHARS characters (a language's first chunk, FIRST_CHUNK_CHARS).

    A builder filing one language at a time finds that language's word forms in its caches
    (XQuAD with its languages shuffled, one process: 8.1 s in chunks of one language, 9.1 s
    in chunks of mixed ones). Up to HELD_CHARS characters of input are held back to fill
    the chunks; past that the largest goes out unfilled.

    A document without a language goes by its script, unless ``identify``: then its
    language is identified here and kept in the chunk's ``langs``, as workers need it to
    share no language (chunks of the Latin script mixed six XQuAD languages, and both
    workers analyzed and wrote the vocabulary of each).
    """
    open_chunks: dict[str, Chunk] = {}
    held = 0
    started: set[str] = set()  # languages whose first chunk went out
    for position, document in enumerate(documents):
        lang = identified_language(document) if identify else None
        key = lang or language_of(document)
        chunk = open_chunks.get(key)
        if chunk is None:
            chunk = open_chunks[key] = Chunk(key)
        chunk.add(position, document, lang)
        held += chars_of(document)
        size = CHUNK_CHARS if key in started else FIRST_CHUNK_CHARS
        if not chunk.full(size) and held <= HELD_CHARS:
            continue
        if not chunk.full(size):
            chunk = max(open_chunks.values(), key=lambda c: c.chars)
        held -= chunk.chars
        started.add(chunk.key)
        yield open_chunks.pop(chunk.key)
    yield from open_chunks.values()


def chars_of(document: Document) -> int:
    return len(document.body) + len(document.title)


def language_of(document: Document) -> str:
    """A document's language as far as chunking needs it: the given one, else its script.

    Identifying the language is the builders' job; the script of a sample costs little.
    """
    if document.lang:
        return analyzers.registry.language_code(document.lang)
    return f"script {analyzers.detect.dominant_script((document.body or document.title)[:SCRIPT_SAMPLE])}"


def identified_language(document: Document) -> str:
    """The language a document is filed under: its own, else (none given, or ``xx``) the
    one identified from its title and body."""
    lang = analyzers.registry.language_code(document.lang) if document.lang else None
    if not lang or lang == "xx":  # the model reads a sample: a giant body is not copied whole
        sample = analyzers.detect.SAMPLE_CHARS
        lang = analyzers.detect_language(f"{document.title[:sample]}\n{document.body[:sample]}")
    return lang


def fields_of(
    document: Document, declarations: Mapping[str, Field] | None = None, lang: str | None = None
) -> tuple[dict[str, object], dict[str, Terms], tuple[list[int], list[int]] | None]:
    """A document as the index files it: the values Whoosh indexes or stores itself, the
    terms of the text fields (its own language's title, body and declared text fields, and
    the name keys), and where its body's words start and end (None for a body longer than
    snippets read); its other declared fields are filed by ``_file_declared``.
    ``lang``: its :func:`identified_language`, if known already."""
    lang = lang or identified_language(document)
    key = analyzers.canonical(lang)
    title_terms, title_names = analyzers.index_terms(document.title, lang)
    body_spans = None
    if len(document.body) > arrays.MAX_ANALYZED_CHARS:
        body_terms, body_names = analyzers.index_terms(document.body, lang)
    else:
        body_terms, body_names, starts, ends = analyzers.index_terms_and_starts(document.body, lang)
        body_spans = (starts, ends)
    values: dict[str, object] = {
        "id": document.id,
        "lang": lang,
        "title": document.title,
        "body": document.body,
    }
    if document.date is not None:
        values["date"] = document.date
    if document.source is not None:
        values["source"] = document.source
    names = title_names + body_names
    texts: dict[str, Terms] = {title_field(key): title_terms, body_field(key): body_terms}
    for name, value in document.fields.items():
        if declarations and declarations[name].searchable:
            terms, more_names = analyzers.index_terms(value, lang)
            texts[text_field(name, key)] = terms
            values[name] = value
            names += more_names
    texts[NAMES] = names
    return values, texts, body_spans


def _text_postings(format_: Format, terms: Terms) -> tuple[list[tuple[str, float, bytes]], int]:
    """A text field's ``(term, weight, value)`` postings and its length, as Whoosh's
    ``Positions`` and ``Frequency`` formats encode them."""
    boost = format_.field_boost
    if isinstance(terms, Counter):
        return [(term, count * boost, pack_uint(count)) for term, count in terms.items()], terms.total()
    encode = format_.encode
    single = _one_position if type(format_) is Positions else lambda position: encode([position])
    postings = [
        (term, len(positions) * boost, single(positions[0]) if len(positions) == 1 else encode(positions))
        for term, positions in terms.items()
    ]
    return postings, sum(len(positions) for positions in terms.values())


@lru_cache(maxsize=1 << 16)
def _one_position(position: int) -> bytes:
    """Most terms occur once in a field: their encoding is worth keeping."""
    return Positions().encode([position])


def content_digest(title: str, body: str, date: object, source: str | None) -> str:
    """A digest of a document's content, its id and language aside: the same file indexed
    under another id (searchlib 0.1 named files by their stem) has the same one."""
    return _digest(title, body, str(date or ""), source or "")


def _fingerprint(document: Document) -> str:
    """A digest of everything indexed about a document, to tell an unchanged one."""
    parts = [
        document.title,
        document.body,
        document.lang or "",
        str(document.date or ""),
        document.source or "",
    ]
    if document.fields:  # documents without declared fields keep the digests of 0.1
        parts.append(json.dumps(document.fields, sort_keys=True, default=repr, ensure_ascii=False))
    return _digest(*parts)


def _digest(*parts: str) -> str:
    """The digest of ``parts`` joined by NUL, encoded a megabyte of text at a time: a giant
    document is not copied twice to be hashed."""
    digest = hashlib.blake2b(digest_size=16)
    for number, part in enumerate(parts):
        if number:
            digest.update(b"\x00")
        for start in range(0, len(part), DIGEST_PIECE):
            digest.update(part[start : start + DIGEST_PIECE].encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def decode(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term
