"""Filing documents into new index segments: here, in worker processes, or on Dask workers.

Every way of adding documents works alike. A :class:`SegmentBuilder` (a Whoosh segment
writer that takes no lock) files documents into a segment of its own and reports where
each one went; a :class:`Ledger` reads the reports in input order to decide which copy of
each id wins; :func:`commit` makes the new segments, the superseded copies and the
replaced documents one commit. The process that commits holds the index's write lock for
the whole build, so the index the builders compare against cannot change under them.

Documents reach the builders in chunks of at most :data:`CHUNK_CHARS` characters, and
each builder's postings spill to disk past its share of the memory setting: the memory a
build needs is bounded by that setting and the number of builders, not by the corpus.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import attrs
from whoosh.codec.base import Segment
from whoosh.writing import SegmentWriter

import analyzers
from analyzers.names import name_tokens
from searchlib.documents import Document
from searchlib.schema import FINGERPRINT, NAMES, body_field, title_field
from searchlib.storage import open_whoosh

CHUNK_CHARS = 200_000  # text per chunk: enough to amortize a hand-over, small enough to balance
CHUNK_DOCS = 500
UNCHANGED = -1  # Filed.position of a document identical to its indexed copy, left alone


@attrs.frozen
class AddResult:
    """What adding documents did."""

    added: int
    replaced: int
    duplicates: int
    languages: dict[str, int]
    unchanged: int = 0


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
        self._searcher = whoosh.searcher()
        self._keeps_fingerprints = FINGERPRINT in self._searcher.schema  # not in pre-release indexes
        reader = self._searcher.reader()
        self._fingerprints = (
            reader.column_reader(FINGERPRINT)
            if self._keeps_fingerprints and reader.has_column(FINGERPRINT)
            else None
        )
        self._writer = SegmentWriter(whoosh, _lk=False, limitmb=max(1, memory_mb))
        self._count = 0

    def add(self, documents: Iterable[Document]) -> list[Filed]:
        filed = []
        for document in documents:
            fingerprint = _fingerprint(document)
            docnum = self._searcher.document_number(id=document.id)
            indexed = docnum is not None
            if indexed and self._stored_fingerprint(docnum) == fingerprint:
                filed.append(Filed(document.id, UNCHANGED, "", True))
                continue
            fields = fields_of(document)
            if self._keeps_fingerprints:
                fields[FINGERPRINT] = fingerprint
            self._writer.add_document(**fields)
            filed.append(Filed(document.id, self._count, fields["lang"], indexed))
            self._count += 1
        return filed

    def _stored_fingerprint(self, docnum: int) -> str | None:
        return None if self._fingerprints is None else decode(self._fingerprints[docnum])

    def finish(self) -> Segment | None:
        """The finished segment, or None if no document was filed in it."""
        if not self._count:
            self.cancel()
            return None
        self._searcher.close()
        return self._writer._finalize_segment()

    def cancel(self) -> None:
        """Give up, deleting the segment's files: they are in no commit."""
        self._searcher.close()
        self._writer._close_segment()
        _delete_new_segment(self._writer)


class Ledger:
    """Which copy of each id wins (the last in input order), and what a build did.

    Keeps about 200 bytes per distinct id, not the documents.
    """

    def __init__(self) -> None:
        self._latest: dict[str, tuple[tuple[int, int], Hashable, Filed]] = {}
        self._superseded: defaultdict[Hashable, list[int]] = defaultdict(list)
        self.total = 0

    def record(self, order: int, builder: Hashable, filed: list[Filed]) -> None:
        """Note the report on input chunk number ``order``, filed by ``builder``."""
        for offset, entry in enumerate(filed):
            self.total += 1
            key = (order, offset)
            previous = self._latest.get(entry.id)
            if previous is None or previous[0] < key:
                if previous is not None:
                    self._supersede(previous[1], previous[2])
                self._latest[entry.id] = (key, builder, entry)
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
        _delete_new_segment(writer)
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


def _delete_new_segment(writer: SegmentWriter) -> None:
    """Delete the files of a closed writer's uncommitted segment (else the next commit would)."""
    storage, prefix = writer.storage, f"{writer.indexname}_{writer.newsegment.segid}"
    for name in storage.list():
        if name.startswith(prefix):
            storage.delete_file(name)


def chunks(documents: Iterable[Document]) -> Iterator[list[Document]]:
    """``documents`` in lists of at most CHUNK_DOCS documents or about CHUNK_CHARS characters."""
    chunk: list[Document] = []
    size = 0
    for document in documents:
        chunk.append(document)
        size += len(document.body) + len(document.title)
        if size >= CHUNK_CHARS or len(chunk) >= CHUNK_DOCS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def fields_of(document: Document) -> dict[str, object]:
    """The Whoosh fields of a document: its text goes to its own language's fields."""
    lang = analyzers.registry.language_code(document.lang) if document.lang else None
    if not lang or lang == "xx":
        lang = analyzers.detect_language(f"{document.title}\n{document.body}")
    key = analyzers.canonical(lang)
    keys = name_tokens(f"{document.title}\n{document.body}", lang)
    fields: dict[str, object] = {
        NAMES: " ".join(token.term for token in keys),
        "id": document.id,
        "lang": lang,
        "title": document.title,
        "body": document.body,
        title_field(key): document.title,
        body_field(key): document.body,
    }
    if document.date is not None:
        fields["date"] = document.date
    if document.source is not None:
        fields["source"] = document.source
    return fields


def _fingerprint(document: Document) -> str:
    """A digest of everything indexed about a document, to tell an unchanged one."""
    parts = (
        document.title,
        document.body,
        document.lang or "",
        str(document.date or ""),
        document.source or "",
    )
    return hashlib.blake2b("\x00".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def decode(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term
