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
import operator
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

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3FieldWriter
from whoosh.fields import FieldType, Schema
from whoosh.filedb.filetables import HashWriter, OrderedHashWriter
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte

from searchlib.arrays import ArraysWriter

# A term's postings are one flat list, STRIDE items a posting: document number, weight, encoded
# value, field length. Columns are then slices (ids = postings[0::STRIDE]), taken in C, where
# a tuple per posting took a Python step per posting to unpack (a third of writing them).
Postings = list
STRIDE = 4
Entry = tuple[str, str | bytes, Iterator[Postings]]  # field, term, its postings in pieces
BLOCK_POSTINGS = 128  # postings per block, as Whoosh writes them
_BLOCK_ITEMS = BLOCK_POSTINGS * STRIDE
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
# on XQuAD: 54 MB for 336,520 postings of 103,041 terms, everything a builder holds, when a
# posting was a tuple; flat lists hold 349,020 postings in 15.6 MB less (47 bytes a posting).
POSTING_BYTES = 85
TERM_BYTES = 150
PAGE_POSTINGS = 256  # postings per page of a spilled run: what merging holds per run
_PAGE_SIZE = struct.Struct("!Q")
APPEND_BATCH = 1024  # pieces written to a segment file at once
BATCH_TERMS = 1024  # terms of one block written together
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
        self._fields: dict[str, dict[str | bytes, Postings]] = {}
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
            found = terms.get(term)
            if found is None:
                terms[term] = [docnum, weight, value, length]
                new_terms += 1
            else:
                found += (docnum, weight, value, length)
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

    def _sorted(self) -> Iterator[tuple[str, str | bytes, Postings]]:
        for field in sorted(self._fields):
            terms = self._fields[field]
            for term in sorted(terms):
                yield field, term, terms[term]

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(dir=self._directory, prefix=".postings-")  # noqa: SIM115
        file = self._file
        start = file.seek(0, 2)
        page: list[tuple[str, str | bytes, Postings]] = []
        count = 0
        for field, term, postings in self._sorted():
            for first in range(0, len(postings), PAGE_POSTINGS * STRIDE):
                part = postings[first : first + PAGE_POSTINGS * STRIDE]
                page.append((field, term, part))
                count += len(part) // STRIDE
                if count >= PAGE_POSTINGS:
                    _write_page(file, page)
                    page, count = [], 0
        if page:
            _write_page(file, page)
        file.flush()  # runs are read with pread, past the file object's buffer
        self._runs.append((start, file.tell()))
        self._fields = {}
        self._size = 0

    def _read_run(self, start: int, end: int) -> Iterator[tuple[str, str | bytes, Postings]]:
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

    def __init__(self, hashes: np.ndarray | None = None, positions: np.ndarray | None = None) -> None:
        self._hashes = array("I", b"" if hashes is None else hashes.astype(np.uint32).tobytes())
        self._positions = array("q", b"" if positions is None else positions.astype(np.int64).tobytes())

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
    bytes of many terms are written at once (its hash tables too, when it closes). Terms
    of one block (most: 99% on XQuAD) are written BATCH_TERMS at a time, their columns
    taken together; a longer list streams through, a block at a time.
    Terms order as Whoosh requires: Python orders strings by code point, as UTF-8 bytes order.
    """
    out = _TermWriter(fieldwriter, arrays)
    for field, group in itertools.groupby(entries, key=operator.itemgetter(0)):
        fieldwriter.start_field(field, schema[field])
        out.start_field(field, schema[field], pack_ushort(fieldwriter._fieldid))
        small: tuple[list[str | bytes], list[Postings]] = ([], [])
        for _, term, pieces in group:
            blocks = _blocks(pieces)
            block = next(blocks)
            following = next(blocks, None)
            if following is None:
                small[0].append(term)
                small[1].append(block)
                if len(small[0]) < BATCH_TERMS:
                    continue
            out.write_small(*small)
            small = ([], [])
            if following is not None:
                out.write_long(term, itertools.chain((block, following), blocks))
        out.write_small(*small)
        fieldwriter.finish_field()
    out.close()


class _TermWriter:
    """The term index and postings file of a segment as :func:`write_postings` fills them."""

    def __init__(self, fieldwriter: W3FieldWriter, arrays: ArraysWriter | None) -> None:
        self._index = index = fieldwriter._tindex
        _hash_with_crc32(index)
        index._write_hashes = lambda: _write_hash_tables(index)
        self._term_file = _Appender(index.dbfile)
        self._postings_file = _Appender(fieldwriter._postfile)
        self._hashes, self._positions = array("I"), array("q")
        self._last = index.lastkey
        self._arrays = arrays
        self._field, self._prefix, self._recording = "", b"", False
        self._pack_values: Callable = tuple

    def start_field(self, field: str, fieldobj: FieldType, prefix: bytes) -> None:
        """``prefix``: the field's number, as its terms' keys begin."""
        self._field, self._prefix = field, prefix
        self._pack_values = _values_packer(fieldobj)
        self._recording = self._arrays is not None and self._arrays.wants(field)

    def write_small(self, terms: list[str | bytes], postings: list[Postings]) -> None:
        """Write terms whose postings fill one block at most."""
        if not terms:
            return
        keys = self._keys(terms)
        if self._recording:
            assert self._arrays is not None
            flat = list(itertools.chain.from_iterable(postings))
            self._arrays.start_terms(self._field, terms, [len(p) // STRIDE for p in postings])
            self._arrays.postings(flat[0::STRIDE], flat[1::STRIDE], flat[2::STRIDE])
        file, pack_values = self._postings_file, self._pack_values
        self._add(
            keys, [_inlined(p) if len(p) == STRIDE else _write_block(file, p, pack_values) for p in postings]
        )

    def write_long(self, term: str | bytes, blocks: Iterator[Postings]) -> None:
        """Write a term whose postings take several blocks, a block at a time."""
        keys = self._keys([term])
        if self._recording:
            assert self._arrays is not None
            self._arrays.start_terms(self._field, [term])
            blocks = _recorded(blocks, self._arrays)
        self._add(keys, [_write_blocks(self._postings_file, next(blocks), blocks, self._pack_values)])

    def close(self) -> None:
        """Write what is pending and hand the index its keys' positions and hashes."""
        self._term_file.flush()
        self._postings_file.flush()
        index = self._index
        index.index.extend(self._positions)
        index.lastkey = self._last
        index.buckets = _buckets(self._hashes, self._positions)

    def _keys(self, terms: list[str | bytes]) -> list[bytes]:
        prefix = self._prefix
        keys = [prefix + (term if isinstance(term, bytes) else term.encode("utf-8")) for term in terms]
        for before, key in zip([self._last, *keys], keys, strict=False):
            if key <= before:
                raise ValueError(f"Keys must increase: {before!r}..{key!r}")
        self._last = keys[-1]
        return keys

    def _add(self, keys: list[bytes], infos: list[bytes]) -> None:
        """Append terms' entries (key and info) to the term index."""
        pack = _KEY_VALUE_LENGTHS.pack
        records = [pack(len(key), len(info)) + key + info for key, info in zip(keys, infos, strict=True)]
        self._positions.extend(self._term_file.extend(records))
        self._hashes.extend(map(zlib.crc32, keys))


def _recorded(blocks: Iterator[Postings], arrays: ArraysWriter) -> Iterator[Postings]:
    """A term's blocks, passed on once ``arrays`` has their columns."""
    for block in blocks:
        arrays.postings(block[0::STRIDE], block[1::STRIDE], block[2::STRIDE])
        yield block


def _buckets(hashes: array, positions: array) -> list[_Bucket]:
    """A term index's 256 buckets of (hash, position), by the hash's low byte, in key order."""
    found = np.frombuffer(hashes, dtype=np.uint32) if hashes else np.zeros(0, np.uint32)
    at = np.frombuffer(positions, dtype=np.int64) if positions else np.zeros(0, np.int64)
    low = found & 255
    order = np.argsort(low, kind="stable")
    bounds = np.searchsorted(low[order], np.arange(257))
    return [
        _Bucket(found[order[bounds[b] : bounds[b + 1]]], at[order[bounds[b] : bounds[b + 1]]])
        for b in range(256)
    ]


def _blocks(pieces: Iterator[Postings]) -> Iterator[Postings]:
    """A term's postings, given in pieces of any size, in blocks of BLOCK_POSTINGS (the last
    one shorter). Each piece is held only until its blocks are taken."""
    carry: Postings = []
    for piece in pieces:
        if carry:
            piece = carry + piece
        whole = len(piece) - len(piece) % _BLOCK_ITEMS
        for start in range(0, whole, _BLOCK_ITEMS):
            yield piece[start : start + _BLOCK_ITEMS]
        carry = piece[whole:] if whole else piece
    if carry:
        yield carry


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

    def extend(self, pieces: list[bytes]) -> Iterator[int]:
        """Queue ``pieces``; return the positions they will be written at."""
        positions = itertools.accumulate(map(len, pieces), initial=self.position)
        self._pending += pieces
        self.position += sum(map(len, pieces))
        if len(self._pending) >= APPEND_BATCH:
            self.flush()
        return itertools.islice(positions, len(pieces))

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


def _inlined(posting: Postings) -> bytes:
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
    postings_file: _Appender, block: Postings, rest: Iterator[Postings], pack_values: Callable
) -> bytes:
    """Write a term's postings (``block``, its first block, then ``rest``) as
    W3PostingsWriter does, a block at a time; return the term's info."""
    start, first_doc, prefix = postings_file.position, block[0], WHOOSH3_HEADER_MAGIC
    total, count, weight_sum, max_weight, min_length, max_length = 0, 0, 0.0, 0.0, 0, 0
    while block:
        following = next(rest, None)
        piece, docnums, weights, low, high, block_max = _encode_block(block, pack_values, following is None)
        piece, prefix = prefix + piece, b""
        postings_file.append(piece)
        total += len(piece)
        count += len(docnums)
        weight_sum = sum(weights, weight_sum)  # one posting at a time, as Whoosh adds them
        max_weight = max(max_weight, block_max)
        if high:
            min_length = min(low, min_length or low)
            max_length = max(max_length, high)
        last_doc = docnums[-1]
        block = following
    lengths = min_length, max_length
    return _block_term_info(weight_sum, count, lengths, max_weight, (first_doc, last_doc), start, total)


def _write_block(postings_file: _Appender, block: Postings, pack_values: Callable) -> bytes:
    """:func:`_write_blocks` for a term of one block, in a quarter less time."""
    piece, docnums, weights, low, high, block_max = _encode_block(block, pack_values, True)
    piece = WHOOSH3_HEADER_MAGIC + piece
    start = postings_file.append(piece)
    ids = docnums[0], docnums[-1]
    return _block_term_info(
        sum(weights, 0.0), len(docnums), (low, high), max(0.0, block_max), ids, start, len(piece)
    )


def _encode_block(
    block: Postings, pack_values: Callable, last: bool
) -> tuple[bytes, list[int], list[float], int, int, float]:
    """A block as W3PostingsWriter writes it (the size of what follows, negative in a term's
    last block, then its info and its postings, pickled), with its document numbers and
    weights, its least nonzero and its greatest field length, and its greatest weight."""
    docnums, weights, lengths = block[0::STRIDE], block[1::STRIDE], block[3::STRIDE]
    count = len(docnums)
    if weights.count(1.0) == count:
        packed_weights = None
    elif weights.count(weights[0]) == count:
        packed_weights = weights[0]
    else:
        packed_weights = tuple(array("f", weights))
    deltas = tuple(map(operator.sub, docnums, [0, *docnums]))
    values = pack_values(tuple(filter(None, block[2::STRIDE])))
    data = pickle.dumps((deltas, packed_weights, values), PICKLE_PROTOCOL)
    compression = COMPRESSION if len(data) >= COMPRESS_MIN_BYTES else 0
    if compression:
        data = zlib.compress(data, compression)
    low, high = min(lengths), max(lengths)
    if not low and high:
        low = min(filter(None, lengths))
    block_max = max(0, max(weights))
    info = (count, docnums[-1], block_max, compression, _length_byte(low), _length_byte(high))
    info_bytes = pickle.dumps(info, PICKLE_PROTOCOL)
    size = len(info_bytes) + len(data)
    return pack_int(-size if last else size) + info_bytes + data, docnums, weights, low, high, block_max


def _block_term_info(
    weight_sum: float,
    count: int,
    lengths: tuple[int, int],
    max_weight: float,
    ids: tuple[int, int],
    start: int,
    size: int,
) -> bytes:
    """The info (W3TermInfo) of a term whose postings take ``size`` bytes from ``start``,
    with their least and greatest field lengths and document numbers."""
    min_length, max_length = map(_length_byte, lengths)
    info = _TERM_INFO.pack(False, weight_sum, count, min_length, max_length, max_weight, *ids)
    return info + pack_long(start) + pack_int(size)
