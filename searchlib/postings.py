"""A segment's postings, gathered per term and written a block at a time.

Whoosh's segment writer sends every posting through a pool of 5-tuples, sorts them all,
and hands them one by one to its codec, which spends some thirty Python calls per term
and looks up each document's field length again. That path was half of searchlib's
indexing time (docs/benchmarks.md). Here a :class:`PostingTable` groups postings by
field and term as documents are filed (spilling sorted runs to disk past a memory
bound), and :func:`write_postings` writes each term's list in Whoosh's own format (W3),
which any Whoosh reads, with four choices the format allows:

- pickle protocol 4 (see :data:`PICKLE_PROTOCOL`);
- a term in one document keeps its posting in the term index ("inlined", which Whoosh's
  writer means to do but cannot: it calls a method that does not exist);
- blocks under :data:`COMPRESS_MIN_BYTES` are stored uncompressed, where zlib's set-up
  dominates (on XQuAD, compressing blocks from 512 bytes up took 6% of indexing time for
  5,316 blocks; from 2 KB up, 1% for 652, and the postings take 5.5 MB instead of 2.8);
- the term index hashes its keys with CRC32, not MD5 (see :func:`_hash_with_crc32`).

tests/test_postings.py checks the result against Whoosh's own writer.
"""

from __future__ import annotations

import heapq
import itertools
import os
import pickle
import struct
import tempfile
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3FieldWriter
from whoosh.fields import FieldType, Schema
from whoosh.filedb.filetables import HashWriter, OrderedHashWriter
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte

from searchlib.arrays import ArraysWriter

Posting = tuple[int, float, bytes, int]  # document number, weight, encoded value, field length
Entry = tuple[str, str | bytes, Iterator[list[Posting]]]  # field, term, its postings in pieces
BLOCK_POSTINGS = 128  # postings per block, as Whoosh writes them
COMPRESSION = 3  # zlib level, as Whoosh's
COMPRESS_MIN_BYTES = 2048  # see the module's docstring
# Whoosh pickles with protocol 2, which stores bytes as calls to codecs.encode: a block of
# positions pickles 8x faster, loads 10x faster and is half the size with protocol 4.
PICKLE_PROTOCOL = 4
_TERM_INFO = struct.Struct("!BfIBBfII")  # W3TermInfo: inlined?, weight, df, lengths, max weight, ids
_FLOAT = struct.Struct("f")
_KEY_VALUE_LENGTHS = struct.Struct("!ii")  # before each entry of a Whoosh hash file
_POINTER = struct.Struct("!Iq")  # a slot of its hash tables: hash, position of the entry
# What a posting and a term cost in memory, for the memory bound. Measured with tracemalloc
# on XQuAD: 54 MB for 336,520 postings of 103,041 terms, everything a builder holds.
POSTING_BYTES = 130
TERM_BYTES = 150
PAGE_POSTINGS = 256  # postings per page of a spilled run: what merging holds per run
_PAGE_SIZE = struct.Struct("!Q")
APPEND_BATCH = 1024  # pieces written to a segment file at once
HASH_MAGIC = b"HSH3"  # the format tag at the start of a Whoosh hash file, then its hash type
CRC32 = 1  # that type for CRC32 (crc32(key) & 0xFFFFFFFF; zlib's is unsigned already)


class PostingTable:
    """Postings grouped by field and term, in document order, within a memory bound.

    Past the bound, the postings held are written, sorted, as a run to one temporary file,
    in pages of at most :data:`PAGE_POSTINGS` postings (a frequent term's list split over
    several). Merging the runs then holds one page per run, never a term's whole list:
    what finishing a segment needs does not grow with the corpus.
    """

    def __init__(self, memory_bytes: int, directory: Path) -> None:
        self._limit = memory_bytes
        self._directory = directory
        self._fields: dict[str, dict[str | bytes, list[Posting]]] = {}
        self._size = 0
        self._file: IO[bytes] | None = None  # the runs, one after another
        self._runs: list[tuple[int, int]] = []  # (start, end) of each in the file
        self.terms = 0  # terms and postings filed, spilled or not: what writing them will cost
        self.postings = 0

    def add(
        self, field: str, docnum: int, length: int, postings: Sequence[tuple[str | bytes, float, bytes]]
    ) -> None:
        """File one document's ``(term, weight, value)`` postings in ``field``."""
        terms = self._fields.setdefault(field, {})
        new_terms, filed = 0, len(postings)
        for term, weight, value in postings:
            posting = (docnum, weight, value, length)
            found = terms.get(term)
            if found is None:
                terms[term] = [posting]
                new_terms += 1
            else:
                found.append(posting)
        self.terms += new_terms
        self.postings += filed
        self._size += new_terms * TERM_BYTES + filed * POSTING_BYTES
        if self._size > self._limit:
            self._spill()

    def entries(self) -> Iterator[Entry]:
        """Every term's postings, by field and term, as an iterator of lists of postings in
        document order (runs spilled earlier first)."""
        held = ((field, term, iter((postings,))) for field, term, postings in self._sorted())
        if not self._runs:
            return held
        pages = [*(self._read_run(start, end) for start, end in self._runs), self._sorted()]
        merged = heapq.merge(*pages, key=_entry_key)  # stable: earlier runs first on ties
        return (
            (key[0], key[1], (postings for _, _, postings in group))
            for key, group in itertools.groupby(merged, key=_entry_key)
        )

    @property
    def runs(self) -> int:
        """How many runs have been spilled."""
        return len(self._runs)

    def close(self) -> None:
        """Delete the spilled runs (an anonymous temporary file)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._runs.clear()
        self._fields.clear()

    def _sorted(self) -> Iterator[tuple[str, str | bytes, list[Posting]]]:
        for field in sorted(self._fields):
            terms = self._fields[field]
            for term in sorted(terms):
                yield field, term, terms[term]

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(dir=self._directory, prefix=".postings-")  # noqa: SIM115
        file = self._file
        start = file.seek(0, 2)
        page: list[tuple[str, str | bytes, list[Posting]]] = []
        count = 0
        for field, term, postings in self._sorted():
            for first in range(0, len(postings), PAGE_POSTINGS):
                part = postings[first : first + PAGE_POSTINGS]
                page.append((field, term, part))
                count += len(part)
                if count >= PAGE_POSTINGS:
                    _write_page(file, page)
                    page, count = [], 0
        if page:
            _write_page(file, page)
        file.flush()  # runs are read with pread, past the file object's buffer
        self._runs.append((start, file.tell()))
        self._fields = {}
        self._size = 0

    def _read_run(self, start: int, end: int) -> Iterator[tuple[str, str | bytes, list[Posting]]]:
        """A run's entries, a page at a time (read at its own offsets: runs share a file)."""
        assert self._file is not None
        fd = self._file.fileno()
        position = start
        while position < end:
            (size,) = _PAGE_SIZE.unpack(os.pread(fd, _PAGE_SIZE.size, position))
            position += _PAGE_SIZE.size
            yield from pickle.loads(os.pread(fd, size, position))
            position += size


def _write_page(file: IO[bytes], page: list) -> None:
    data = pickle.dumps(page, pickle.HIGHEST_PROTOCOL)
    file.write(_PAGE_SIZE.pack(len(data)) + data)


def _entry_key(entry: tuple) -> tuple[str, str | bytes]:
    return entry[0], entry[1]


class _Bucket:
    """One of a term index's 256 buckets of (hash, position) pairs, in two arrays: 12 bytes
    a term where Whoosh's list of tuples took about 100, so that writing (or merging into)
    a segment of a million terms needs 12 MB for its term index, not 100."""

    __slots__ = ("_hashes", "_positions")

    def __init__(self) -> None:
        self._hashes = array("I")
        self._positions = array("q")

    def append(self, entry: tuple[int, int]) -> None:
        self._hashes.append(entry[0] & 0xFFFFFFFF)
        self._positions.append(entry[1])

    def __len__(self) -> int:
        return len(self._hashes)

    def __bool__(self) -> bool:
        return bool(self._hashes)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self._hashes, self._positions, strict=True)


_whoosh_hash_writer_init = HashWriter.__init__


def _compact_init(self: HashWriter, *args: object, **kwargs: object) -> None:
    _whoosh_hash_writer_init(self, *args, **kwargs)
    self.buckets = [_Bucket() for _ in range(256)]


def install() -> None:
    """Make every term index Whoosh writes (merges too) keep its buckets in arrays. Idempotent."""
    HashWriter.__init__ = _compact_init


def write_postings(
    fieldwriter: W3FieldWriter, schema: Schema, entries: Iterable[Entry], arrays: ArraysWriter | None = None
) -> None:
    """Write ``entries`` (sorted by field, then term) into the files of a W3 field writer,
    and the postings of scored fields to ``arrays`` as they go (:mod:`searchlib.arrays`).

    Each term goes into the term index as Whoosh's OrderedHashWriter.add puts it, but the
    bytes of many terms are written at once (its hash tables too, when it closes).
    Terms order as Whoosh requires: Python orders strings by code point, as UTF-8 bytes order.
    """
    terms = fieldwriter._tindex
    _hash_with_crc32(terms)
    terms._write_hashes = lambda: _write_hash_tables(terms)
    term_file, postings_file = _Appender(terms.dbfile), _Appender(fieldwriter._postfile)
    buckets, hashfn, positions, last = terms.buckets, terms.hashfn, array("q"), terms.lastkey
    current = None
    for field, term, postings in entries:
        if field != current:
            if current is not None:
                fieldwriter.finish_field()
            fieldobj = schema[field]
            fieldwriter.start_field(field, fieldobj)
            prefix = pack_ushort(fieldwriter._fieldid)
            pack_values = _values_packer(fieldobj)
            current = field
        key = prefix + (term if isinstance(term, bytes) else term.encode("utf-8"))
        if key <= last:
            raise ValueError(f"Keys must increase: {last!r}..{key!r}")
        last = key
        if arrays is not None and arrays.wants(field):
            arrays.term(field, term)
            postings = _recorded(postings, arrays)
        stream = itertools.chain.from_iterable(postings)
        block = list(itertools.islice(stream, BLOCK_POSTINGS))
        if len(block) == 1 and (more := next(stream, None)) is None:
            info = _inlined(block[0])
        else:
            if len(block) == 1:
                block.append(more)
                block.extend(itertools.islice(stream, BLOCK_POSTINGS - 2))
            info = _write_blocks(postings_file, block, stream, pack_values)
        position = term_file.append(_KEY_VALUE_LENGTHS.pack(len(key), len(info)) + key + info)
        positions.append(position)
        hashed = hashfn(key)
        buckets[hashed & 255].append((hashed, position))
    if current is not None:
        fieldwriter.finish_field()
    term_file.flush()
    postings_file.flush()
    terms.index.extend(positions)
    terms.lastkey = last


def _recorded(pieces: Iterator[list[Posting]], arrays: ArraysWriter) -> Iterator[list[Posting]]:
    """The pieces of a term's postings, passed on once ``arrays`` has their numbers and weights."""
    for piece in pieces:
        arrays.postings(piece)
        yield piece


def _hash_with_crc32(terms: OrderedHashWriter) -> None:
    """Make a new term index hash its keys with CRC32 (hash type 1, which every Whoosh reads).

    Whoosh's default, MD5 through a hex string, was 9% of writing a segment's postings; the
    hash type is a byte in the file's header, written before any key.
    """
    if any(terms.buckets):
        raise ValueError("the term index has keys already")
    dbfile = terms.dbfile
    end = dbfile.tell()
    dbfile.seek(terms.startoffset + len(HASH_MAGIC))
    dbfile.write_byte(CRC32)
    dbfile.seek(end)
    terms.hashtype, terms.hashfn = CRC32, zlib.crc32


class _Appender:
    """Appends to a file a batch at a time, knowing where each piece goes without asking."""

    def __init__(self, file: object) -> None:
        self._file = file
        self.position = file.tell()
        self._pending: list[bytes] = []

    def append(self, data: bytes) -> int:
        """Queue ``data`` for writing; return the position it will be written at."""
        position = self.position
        self._pending.append(data)
        self.position += len(data)
        if len(self._pending) >= APPEND_BATCH:
            self.flush()
        return position

    def flush(self) -> None:
        self._file.write(b"".join(self._pending))
        self._pending.clear()


def _write_hash_tables(terms: OrderedHashWriter) -> None:
    """HashWriter._write_hashes: per bucket, a table of twice its entries, open addressing."""
    dbfile = terms.dbfile
    empty = (0, 0)
    for entries in terms.buckets:
        slots = 2 * len(entries)
        terms.directory.append((dbfile.tell(), slots))
        table = [empty] * slots
        for hashed, position in entries:
            slot = (hashed >> 8) % slots
            while table[slot] != empty:
                slot = (slot + 1) % slots
            table[slot] = (hashed, position)
        dbfile.write(b"".join(itertools.starmap(_POINTER.pack, table)))


def _values_packer(field: FieldType) -> Callable[[tuple[bytes, ...]], object]:
    """How a block stores its postings' values: W3PostingsWriter._mini_values."""
    size = field.format.fixed_value_size()
    if size is None or size < 0:
        return tuple
    if size == 0:
        return lambda values: None
    return b"".join


def _inlined(posting: Posting) -> bytes:
    """The info of a term in one document with its posting in it, as W3TermInfo writes one."""
    docnum, weight, value, length = posting
    length_byte = _length_byte(length)
    weight = _FLOAT.unpack(_FLOAT.pack(weight))[0]  # as Whoosh keeps weights: 32 bits
    info = _TERM_INFO.pack(True, weight, 1, length_byte, length_byte, max(0, weight), docnum, docnum)
    # The value even when empty: Whoosh's merge wants bytes, and reads "" from an empty tuple.
    return info + pickle.dumps(((docnum,), (weight,), (value,)), PICKLE_PROTOCOL)


@lru_cache(maxsize=4096)
def _length_byte(length: int) -> int:
    """A field length as Whoosh stores it, in a byte (0 for none)."""
    return length_to_byte(length) if length else 0


def _write_blocks(
    postings_file: _Appender, block: list[Posting], rest: Iterator[Posting], pack_values: Callable
) -> bytes:
    """Write a term's postings (``block``, its first, then ``rest``) in blocks of
    BLOCK_POSTINGS, as W3PostingsWriter does, a block at a time; return its term info."""
    start = postings_file.append(WHOOSH3_HEADER_MAGIC)
    total = len(WHOOSH3_HEADER_MAGIC)
    count, weight_sum, max_weight, first_doc = 0, 0.0, 0.0, block[0][0]
    min_length, max_length = 0, 0
    while block:
        following = list(itertools.islice(rest, BLOCK_POSTINGS))
        docnums, weights, values, lengths = zip(*block, strict=True)
        deltas = tuple(docnum - previous for docnum, previous in zip(docnums, (0, *docnums), strict=False))
        if weights.count(1.0) == len(weights):
            packed_weights = None
        elif weights.count(weights[0]) == len(weights):
            packed_weights = weights[0]
        else:
            packed_weights = tuple(array("f", weights))
        data = pickle.dumps(
            (deltas, packed_weights, pack_values(tuple(v for v in values if v))), PICKLE_PROTOCOL
        )
        compression = COMPRESSION if len(data) >= COMPRESS_MIN_BYTES else 0
        if compression:
            data = zlib.compress(data, compression)
        nonzero = [length for length in lengths if length]
        block_max = max(0, *weights)
        info = pickle.dumps(
            (
                len(docnums),
                docnums[-1],
                block_max,
                compression,
                _length_byte(min(nonzero, default=0)),
                _length_byte(max(lengths)),
            ),
            PICKLE_PROTOCOL,
        )
        size = len(info) + len(data)
        piece = pack_int(size if following else -size) + info + data
        postings_file.append(piece)
        total += len(piece)
        count += len(docnums)
        weight_sum = sum(weights, weight_sum)  # one posting at a time, as Whoosh adds them
        max_weight = max(max_weight, block_max)
        if nonzero:
            min_length = min(min(nonzero), min_length or min(nonzero))
            max_length = max(max_length, max(nonzero))
        last_doc = docnums[-1]
        block = following
    term_info = _TERM_INFO.pack(
        False,
        weight_sum,
        count,
        _length_byte(min_length),
        _length_byte(max_length),
        max_weight,
        first_doc,
        last_doc,
    )
    return term_info + pack_long(start) + pack_int(total)
