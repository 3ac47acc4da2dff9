"""A segment's scored postings as arrays, derived from its Whoosh files, read in place.

Whoosh reads a term's postings through a matcher, a block at a time, with a Python call or
more per posting, and finds the term through a hash file with a dozen calls: a query spent
tens of microseconds per term before scoring anything, and a microsecond per posting. Here
each segment has a file beside it, ``<segment id>.sla``, holding for every field that is
scored (text and name keys) its terms, and each term's document numbers and weights as
contiguous arrays. A query maps it and scores a term's postings with a few numpy operations.

The Whoosh segment stays the format of record: the file is written with the segment (from
the postings as they are written, :class:`ArraysWriter`) or, for a segment Whoosh's merge
wrote, derived from it at commit (:func:`derive`); a segment without one, or with one that
does not check out (:func:`load` validates every bound), is read through Whoosh, as before.

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header (JSON), then
the arrays at 8-byte-aligned offsets: per field its terms (UTF-8, NUL-separated), and for
all fields together each term's first posting (int64, one more than there are terms), the
postings' document numbers (int32) and weights (float32, as Whoosh stores them).
"""

from __future__ import annotations

import json
import mmap
import os
import tempfile
from array import array
from collections.abc import Iterable
from typing import IO, Any

import numpy as np

from searchlib.errors import IndexCorruptError

MAGIC = b"SLARRAYS1\n"
SUFFIX = ".sla"
SEPARATOR = "\x00"
FLUSH_POSTINGS = 65_536  # postings held before they go to the temporary files
MAX_HEADER_BYTES = 1 << 24


def file_name(segment: Any) -> str:
    return f"{segment.segment_id()}{SUFFIX}"


def scored_fields(schema: Any) -> set[str]:
    """The fields whose postings queries score (text and name keys, not ids or keywords)."""
    return {name for name, field in schema.items() if field.scorable}


class ArraysWriter:
    """Collects the postings of scored fields as they are written (terms in order), spilling
    terms, document numbers and weights to temporary files, so that memory does not grow
    with the segment; :meth:`write` then assembles the file."""

    def __init__(self, fields: Iterable[str]) -> None:
        self._fields = set(fields)
        # closed by write() or close()
        self._files = {name: tempfile.TemporaryFile() for name in ("terms", "starts", "ids", "weights")}  # noqa: SIM115
        self._reset()
        self._ranges: dict[str, list[int]] = {}  # field: [first term, last, first byte, last]
        self._bytes = 0
        self.terms = self.count = 0

    def _reset(self) -> None:
        self._pending: dict[str, Any] = {
            "terms": [],
            "starts": array("q"),
            "ids": array("i"),
            "weights": array("f"),
        }

    def wants(self, field: str) -> bool:
        return field in self._fields

    def term(self, field: str, term: str | bytes) -> None:
        """Start ``term``'s postings (terms come in order, a field's together)."""
        if isinstance(term, str):
            term = term.encode("utf-8", "surrogateescape")
        found = self._ranges.get(field)
        if found is None:
            found = self._ranges[field] = [self.terms, self.terms, self._bytes, self._bytes]
        else:
            term = SEPARATOR.encode() + term
        self._pending["terms"].append(term)
        self._bytes += len(term)
        self.terms += 1
        found[1], found[3] = self.terms, self._bytes
        self._pending["starts"].append(self.count)

    def postings(self, postings: list[tuple]) -> None:
        """Add the (document number, weight, ...) postings of the current term."""
        self._pending["ids"].extend([posting[0] for posting in postings])
        self._pending["weights"].extend([posting[1] for posting in postings])
        self.count += len(postings)
        if len(self._pending["ids"]) >= FLUSH_POSTINGS or len(self._pending["starts"]) >= FLUSH_POSTINGS:
            self._flush()

    def _flush(self) -> None:
        self._files["terms"].write(b"".join(self._pending["terms"]))
        for name in ("starts", "ids", "weights"):
            self._pending[name].tofile(self._files[name])
        self._reset()

    def write(self, out: IO[bytes], doc_count: int) -> None:
        """Write the file to ``out`` (the temporary files are closed after)."""
        self._pending["starts"].append(self.count)
        self._flush()
        terms = self._files["terms"]
        parts: list[tuple[str, Any]] = [
            (f"terms:{field}", (terms, first_byte, last_byte - first_byte))
            for field, (_, _, first_byte, last_byte) in self._ranges.items()
        ]
        parts += [(name, self._files[name]) for name in ("starts", "ids", "weights")]
        fields = {field: {"terms": [first, last]} for field, (first, last, _, _) in self._ranges.items()}
        try:
            _write(out, {"docs": doc_count, "fields": fields}, parts)
        finally:
            self.close()

    def close(self) -> None:
        for file in self._files.values():
            file.close()


def _write(out: IO[bytes], header: dict, parts: list[tuple[str, Any]]) -> None:
    """``parts`` are whole temporary files or (file, start, size) pieces of one."""
    pieces = {}
    for name, part in parts:
        if isinstance(part, tuple):
            pieces[name] = part
        else:
            part.flush()
            pieces[name] = (part, 0, part.seek(0, os.SEEK_END))
    layout, position = {}, 0
    for name, _ in parts:
        layout[name] = [position, pieces[name][2]]
        position += _aligned(pieces[name][2])
    header = {**header, "parts": layout}
    encoded = json.dumps(header).encode()
    start = _aligned(len(MAGIC) + 8 + len(encoded))
    out.write(MAGIC + len(encoded).to_bytes(8, "little") + encoded)
    out.write(b"\x00" * (start - len(MAGIC) - 8 - len(encoded)))
    for name, _ in parts:
        file, offset, size = pieces[name]
        file.flush()
        file.seek(offset)
        left = size
        while left and (chunk := file.read(min(left, 1 << 20))):
            out.write(chunk)
            left -= len(chunk)
        out.write(b"\x00" * (_aligned(size) - size))


def _aligned(size: int) -> int:
    return (size + 7) // 8 * 8


class SegmentArrays:
    """One segment's arrays, mapped: a term's postings by field and text."""

    def __init__(self, view: memoryview, header: dict, base: int, keep: Any = None) -> None:
        self._view, self._base, self._keep = view, base, keep
        self._parts = header["parts"]
        self._fields = header["fields"]
        self.starts = self._array("starts", np.int64)
        self.ids = self._array("ids", np.int32)
        self.weights = self._array("weights", np.float32)
        self._lookups: dict[str, dict[str, int] | None] = {}

    def _array(self, name: str, dtype: Any) -> np.ndarray:
        offset, size = self._parts[name]
        return np.frombuffer(
            self._view, dtype=dtype, count=size // np.dtype(dtype).itemsize, offset=self._base + offset
        )

    def has_field(self, field: str) -> bool:
        return self._lookup(field) is not None

    def _lookup(self, field: str) -> dict[str, int] | None:
        if field not in self._lookups:
            self._lookups[field] = self._read_terms(field)
        return self._lookups[field]

    def _read_terms(self, field: str) -> dict[str, int] | None:
        found = self._fields.get(field)
        if found is None:
            return {}  # no postings in this segment
        first, last = found["terms"]
        offset, size = self._parts[f"terms:{field}"]
        start = self._base + offset
        words = bytes(self._view[start : start + size]).decode("utf-8", "surrogateescape").split(SEPARATOR)
        if len(words) != last - first:
            return None  # a term holds the separator: this field is read through Whoosh
        return dict(zip(words, range(first, last), strict=True))

    def postings(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The term's (document numbers, weights) in this segment, empty if it has none; None
        if this file cannot say (the field is read through Whoosh)."""
        lookup = self._lookup(field)
        if lookup is None:
            return None
        slot = lookup.get(text)
        if slot is None:
            return _EMPTY
        start, end = self.starts[slot], self.starts[slot + 1]
        return self.ids[start:end], self.weights[start:end]

    def count(self, field: str, text: str) -> int:
        """How many postings the term has here (deleted documents' too)."""
        slot = (self._lookup(field) or {}).get(text)
        return 0 if slot is None else int(self.starts[slot + 1] - self.starts[slot])


_EMPTY = (np.zeros(0, np.int32), np.zeros(0, np.float32))


def load(fd: int, doc_count: int) -> SegmentArrays | None:
    """The arrays of the file open as ``fd``, or None if it is not one whose every bound
    checks out against a segment of ``doc_count`` documents."""
    try:
        size = os.fstat(fd).st_size
        if size < len(MAGIC) + 8:
            return None
        mapped = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    view = memoryview(mapped)
    try:
        if bytes(view[: len(MAGIC)]) != MAGIC:
            return None
        length = int.from_bytes(view[len(MAGIC) : len(MAGIC) + 8], "little")
        if length > min(MAX_HEADER_BYTES, size):
            return None
        header = json.loads(bytes(view[len(MAGIC) + 8 : len(MAGIC) + 8 + length]))
        base = _aligned(len(MAGIC) + 8 + length)
        if not _valid_header(header, size - base, doc_count):
            return None
        arrays = SegmentArrays(view, header, base, mapped)
        if not _valid_arrays(arrays, header, doc_count):
            return None
        return arrays
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _valid_header(header: Any, size: int, doc_count: int) -> bool:
    if not isinstance(header, dict) or header.get("docs") != doc_count:
        return False
    parts, fields = header.get("parts"), header.get("fields")
    if not isinstance(parts, dict) or not isinstance(fields, dict):
        return False
    for name in ("starts", "ids", "weights", *(f"terms:{field}" for field in fields)):
        place = parts.get(name)
        if not (
            isinstance(place, list)
            and len(place) == 2
            and all(isinstance(n, int) and n >= 0 for n in place)
            and place[0] % 8 == 0
            and place[0] + place[1] <= size
        ):
            return False
    return all(
        isinstance(f, dict)
        and isinstance(f.get("terms"), list)
        and len(f["terms"]) == 2
        and all(isinstance(n, int) for n in f["terms"])
        and 0 <= f["terms"][0] <= f["terms"][1]
        for f in fields.values()
    )


def _valid_arrays(arrays: SegmentArrays, header: dict, doc_count: int) -> bool:
    starts, ids = arrays.starts, arrays.ids
    terms = max((f["terms"][1] for f in header["fields"].values()), default=0)
    if len(starts) != terms + 1 or len(ids) != len(arrays.weights):
        return False
    if starts[0] != 0 or starts[-1] != len(ids) or bool(np.any(np.diff(starts) < 0)):
        return False
    return not len(ids) or (int(ids.min()) >= 0 and int(ids.max()) < doc_count)


def derive(reader: Any, fields: Iterable[str], out: IO[bytes]) -> None:
    """Write the arrays of a segment Whoosh wrote (its reader ``reader``) to ``out``: its
    terms and postings read through Whoosh's matchers, deleted documents included (a query
    leaves them out as it does those of any segment)."""
    writer = ArraysWriter(fields)
    try:
        for field in sorted(set(fields) & set(reader.indexed_field_names())):
            for term, _ in reader.iter_field(field):
                writer.term(field, term)
                writer.postings(list(all_postings(reader, field, term)))
        writer.write(out, reader.doc_count_all())
    finally:
        writer.close()


def all_postings(reader: Any, field: str, term: str | bytes) -> Iterable[tuple[int, float]]:
    """(document number, weight) of every posting of a term in one segment, its deleted
    documents' too: Whoosh filters those out, and its filter has already moved its matcher
    past the first live one, so the matcher under the filter starts over."""
    matcher = reader.postings(field, term)
    child = getattr(matcher, "child", None)
    if child is not None:  # the segment's deletions filter
        child.reset()
        matcher = child
    return block_postings(matcher)


def block_postings(matcher: Any) -> Iterable[tuple[int, float]]:
    """(document number, weight) of a leaf matcher's postings, read a block at a time where
    it reads blocks (W3), else one at a time."""
    if not hasattr(matcher, "_read_ids") or not hasattr(matcher, "_next_block"):
        while matcher.is_active():
            yield matcher.id(), matcher.weight()
            matcher.next()
        return
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._weights is None:
            matcher._read_weights()
        start = matcher._i
        yield from zip(matcher._ids[start:], matcher._weights[start:], strict=True)
        matcher._next_block()


def open_arrays(storage: Any, leaf: Any) -> SegmentArrays | None:
    """The arrays of the segment ``leaf`` reads, from ``storage``; None if it has none that
    check out (its postings are then read through Whoosh)."""
    if storage is None:
        return None
    try:
        opened = storage.open_file(file_name(leaf.segment()))
    except (OSError, IndexCorruptError):
        return None
    try:
        return load(opened.file.fileno(), leaf.doc_count_all())
    finally:
        opened.close()


def write_for(storage: Any, schema: Any, segment: Any) -> None:
    """Derive and write the arrays of a committed ``segment`` that has none (Whoosh merged
    it, or an earlier searchlib wrote it)."""
    from whoosh.reading import SegmentReader

    reader = SegmentReader(storage, schema, segment)
    try:
        with storage.create_file(file_name(segment)) as out:
            derive(reader, scored_fields(schema), out)
    finally:
        reader.close()
