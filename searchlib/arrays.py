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
postings' document numbers (int32) and weights (float32, as Whoosh stores them). For
snippets, two optional pairs (absent in files of 0.2.0.dev0): the body fields' posting
values (``values``, Whoosh's encoding of positions, and ``value_starts``, int64, where each
begins; a positioned field's header says its first posting and first value) and, per
document, where each word of its body starts (``word_starts``, uint32, and ``word_index``,
int64, one more than there are documents), and how long it is (``word_lengths``, uint8
beside each start, LONG_WORD for that long or longer; older files have none). Optional
too, in files a builder wrote: beside each word's start, the slot of its term
(``word_terms``, int32; NO_TERM for a stopword, NOT_KEPT throughout a body the builder did
not number).
"""

from __future__ import annotations

import itertools
import json
import mmap
import operator
import os
import tempfile
import threading
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import IO, Any

import numpy as np
from whoosh.formats import Positions

from analyzers.tokenizer import word_spans
from searchlib.errors import IndexCorruptError, UntrustedIndexError
from searchlib.highlight import LONG_WORD, MAX_ANALYZED_CHARS
from searchlib.schema import body_field

MAGIC = b"SLARRAYS1\n"
BODY_PREFIX = body_field("")
SUFFIX = ".sla"
SEPARATOR = "\x00"
_SEPARATOR = SEPARATOR.encode()
FLUSH_POSTINGS = 65_536  # postings held before they go to the temporary files
_SPILLED = (
    "terms",
    "starts",
    "ids",
    "weights",
    "values",
    "value_starts",
    "word_starts",
    "word_index",
    "word_lengths",
)
MAX_HEADER_BYTES = 1 << 24
MAX_WORD_TERMS = 1 << 18  # distinct body terms a segment's writer numbers for word_terms
NO_TERM, NOT_KEPT = -1, -2  # word_terms: a word that is no term (a stopword); a body not numbered


def file_name(segment: Any) -> str:
    return f"{segment.segment_id()}{SUFFIX}"


def scored_fields(schema: Any) -> set[str]:
    """The fields whose postings queries score (text and name keys, not ids or keywords)."""
    return {name for name, field in schema.items() if field.scorable}


def body_word_spans(
    body: str, found: tuple[Sequence[int], Sequence[int]] | None = None
) -> tuple[Sequence[int], Sequence[int]]:
    """Where each word of ``body`` starts and ends, counted as indexing counts positions
    (bigrams of unspaced scripts too): a snippet's passage is then found, and its words
    marked, without reading the words before them or the words themselves. Empty for a
    body longer than a snippet reads. ``found``: the starts and ends, if analysis found
    them already."""
    if len(body) > MAX_ANALYZED_CHARS:
        return (), ()
    starts, ends = word_spans(body) if found is None else found
    return array("I", starts), array("I", ends)


def positioned_fields(schema: Any) -> set[str]:
    """The fields whose postings' positions the file keeps too: the bodies, for snippets."""
    return {name for name in scored_fields(schema) if name.startswith(BODY_PREFIX)}


class ArraysWriter:
    """Collects the postings of scored fields as they are written (terms in order), spilling
    terms, document numbers and weights to temporary files, so that memory does not grow
    with the segment; :meth:`write` then assembles the file."""

    def __init__(
        self, fields: Iterable[str], positioned: Iterable[str] = (), max_word_terms: int | None = None
    ) -> None:
        """``max_word_terms``: number each body word by its term (``word_terms``), for that
        many distinct terms at most (None: keep no word terms, as :func:`derive` does)."""
        self._fields = set(fields)
        self._positioned = set(positioned) & self._fields
        self._max_word_terms = max_word_terms
        self._numbers: dict[str, dict[str, int]] = {}  # positioned field: term → its number here
        self._numbered = 0
        self._slots = array("i")  # term number → its slot in the file, once its postings come
        self._files: dict[str, IO[bytes]] = {}
        self._reset()
        self._ranges: dict[str, list[int]] = {}  # field: [first term, last, first byte, last]
        self._valued: dict[str, list[int]] = {}  # positioned field: [its first posting, first value]
        self._bytes = self._value_bytes = self._values = 0
        self._field: str | None = None
        self.terms = self.count = 0
        self._documents = self._word_starts = 0  # documents and word starts given

    def _reset(self) -> None:
        self._pending: dict[str, Any] = {
            "terms": [],
            "starts": array("q"),
            "ids": array("i"),
            "weights": array("f"),
            "values": [],
            "value_starts": array("q"),
            "word_starts": array("I"),
            "word_index": array("q"),
            "word_lengths": array("B"),
            "word_numbers": array("i"),
        }

    def document(
        self,
        docnum: int,
        word_starts: Sequence[int],
        field: str | None = None,
        terms: Mapping[str, Sequence[int]] | None = None,
        word_ends: Sequence[int] = (),
    ) -> None:
        """Where each word of document ``docnum``'s body starts and ends
        (:func:`body_word_spans`), and ``terms``, its body's terms in ``field`` with their
        positions, to number each word by its term; documents come in order, from 0."""
        if docnum != self._documents:
            raise ValueError(f"document {docnum} given after {self._documents - 1}")
        if len(word_ends) != len(word_starts):
            raise ValueError(f"document {docnum}: {len(word_starts)} word starts, {len(word_ends)} ends")
        try:  # in C: a body's words are all shorter than LONG_WORD but for a rare one
            lengths = array("B", map(operator.sub, word_ends, word_starts))
        except OverflowError:
            spans = zip(word_starts, word_ends, strict=True)
            lengths = array("B", (min(max(end - start, 0), LONG_WORD) for start, end in spans))
        self._pending["word_index"].append(self._word_starts)
        self._pending["word_starts"].extend(word_starts)
        self._pending["word_lengths"].extend(lengths)
        if self._max_word_terms is not None:
            self._pending["word_numbers"].extend(self._word_numbers(len(word_starts), field, terms))
        self._word_starts += len(word_starts)
        self._documents += 1
        if len(self._pending["word_starts"]) >= FLUSH_POSTINGS:
            self._flush()

    def _word_numbers(
        self, count: int, field: str | None, terms: Mapping[str, Sequence[int]] | None
    ) -> array[int]:
        """Each of ``count`` words' term number (NO_TERM for a stopword); all NOT_KEPT if
        a term cannot be numbered (past ``max_word_terms``) or a position lies past the words."""
        numbers = array("i", [NO_TERM]) * count
        if not count:
            return numbers
        if field is None or terms is None or isinstance(terms, Counter):
            return array("i", [NOT_KEPT]) * count
        known = self._numbers.setdefault(field, {})
        for term, positions in terms.items():
            number = known.get(term)
            if number is None:
                if self._numbered >= self._max_word_terms:
                    return array("i", [NOT_KEPT]) * count
                number = known[term] = self._numbered
                self._numbered += 1
            for position in positions:
                if position >= count:
                    return array("i", [NOT_KEPT]) * count
                numbers[position] = number
        return numbers

    def wants(self, field: str) -> bool:
        return field in self._fields

    def start_terms(self, field: str, terms: Sequence[str | bytes], counts: Sequence[int] = ()) -> None:
        """Start the postings of ``terms`` (terms come in order, a field's together), which
        the next :meth:`postings` calls give, ``counts[i]`` for the i-th (a last term's
        count is not needed: one term needs none)."""
        if not terms:
            return
        numbers = self._numbers.get(field)
        if numbers:  # a term's number becomes its slot: the one it is about to take
            if not self._slots:
                self._slots = array("i", [NO_TERM]) * self._numbered
            for offset, term in enumerate(terms):
                text = term if isinstance(term, str) else term.decode("utf-8", "surrogateescape")
                number = numbers.pop(text, None)
                if number is not None:
                    self._slots[number] = self.terms + offset
        joined = _SEPARATOR.join(
            term.encode("utf-8", "surrogateescape") if isinstance(term, str) else term for term in terms
        )
        found = self._ranges.get(field)
        if found is None:
            found = self._ranges[field] = [self.terms, self.terms, self._bytes, self._bytes]
        else:
            joined = _SEPARATOR + joined
        self._pending["terms"].append(joined)
        self._bytes += len(joined)
        self._pending["starts"].extend(itertools.accumulate(counts[: len(terms) - 1], initial=self.count))
        self.terms += len(terms)
        found[1], found[3] = self.terms, self._bytes
        self._field = field
        if field in self._positioned and field not in self._valued:
            self._valued[field] = [self.count, self._values]

    def postings(self, ids: Sequence[int], weights: Sequence[float], values: Sequence[bytes] = ()) -> None:
        """Add postings of the current term: their document numbers, weights and values
        (Whoosh's encoding of the positions, kept for positioned fields)."""
        self._pending["ids"].extend(ids)
        self._pending["weights"].extend(weights)
        self.count += len(ids)
        if self._field in self._positioned:
            self._pending["value_starts"].extend(
                itertools.accumulate(map(len, values[:-1]), initial=self._value_bytes)
            )
            self._pending["values"] += values
            self._value_bytes += sum(map(len, values))
            self._values += len(values)
        if len(self._pending["ids"]) >= FLUSH_POSTINGS or len(self._pending["starts"]) >= FLUSH_POSTINGS:
            self._flush()

    def _flush(self) -> None:
        for name in (*_SPILLED, "word_numbers") if self._max_word_terms is not None else _SPILLED:
            pending = self._pending[name]
            if isinstance(pending, array):
                pending.tofile(self._file(name))
            else:  # bytes: terms, posting values
                self._file(name).write(b"".join(pending))
        self._reset()

    def _file(self, name: str) -> IO[bytes]:
        """A temporary file, opened when first written: a builder's start holds no descriptors."""
        if name not in self._files:
            self._files[name] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by write() or close())
        return self._files[name]

    def write(self, out: IO[bytes], doc_count: int) -> None:
        """Write the file to ``out`` (the temporary files are closed after)."""
        self._pending["starts"].append(self.count)
        self._pending["value_starts"].append(self._value_bytes)
        while self._documents < doc_count:  # documents the builder gave no starts for
            self.document(self._documents, ())
        self._pending["word_index"].append(self._word_starts)
        self._flush()
        terms = self._file("terms")
        parts: list[tuple[str, Any]] = [
            (f"terms:{field}", (terms, first_byte, last_byte - first_byte))
            for field, (_, _, first_byte, last_byte) in self._ranges.items()
        ]
        parts += [(name, self._file(name)) for name in _SPILLED[1:]]
        if self._max_word_terms is not None:
            parts.append(("word_terms", self._word_terms()))
        fields = {field: {"terms": [first, last]} for field, (first, last, _, _) in self._ranges.items()}
        for field, (first_posting, first_value) in self._valued.items():
            fields[field]["values"] = [first_posting, first_value]
        try:
            _write(out, {"docs": doc_count, "fields": fields}, parts)
        finally:
            self.close()

    def _word_terms(self) -> IO[bytes]:
        """The words' term numbers turned into the terms' slots in the file, a piece at a time."""
        numbers, slots = self._file("word_numbers"), np.frombuffer(self._slots, dtype=np.int32)
        out = self._file("word_terms")
        numbers.flush()
        numbers.seek(0)
        while chunk := numbers.read(4 * FLUSH_POSTINGS):
            read = np.frombuffer(chunk, dtype=np.int32)
            np.where(read >= 0, slots[np.maximum(read, 0)] if len(slots) else NO_TERM, read).tofile(out)
        return out

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
        self._start_at = memoryview(self.starts)  # a Python int per look-up, not a numpy scalar
        self.ids = self._array("ids", np.int32)
        self.weights = self._array("weights", np.float32)
        self.value_starts = self._array("value_starts", np.int64) if "value_starts" in self._parts else None
        kept = "word_index" in self._parts
        self.word_index = self._array("word_index", np.int64) if kept else None
        self.word_starts = self._array("word_starts", np.uint32) if kept else None
        self.word_terms = self._array("word_terms", np.int32) if "word_terms" in self._parts else None
        self.word_lengths = (
            self._array("word_lengths", np.uint8) if kept and "word_lengths" in self._parts else None
        )
        # read one number at a time (a page's bodies): Python ints, no numpy scalar each
        self._word_index_at = memoryview(self.word_index) if kept else None
        self._word_terms_at = memoryview(self.word_terms) if self.word_terms is not None else None
        self._lookups: dict[str, dict[str, int] | None] = {}
        self._slot_table: np.ndarray | None = None  # _among's, made at its first call
        self._table_lock = threading.Lock()  # searches in threads share the table

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
        start, end = self._start_at[slot], self._start_at[slot + 1]
        return self.ids[start:end], self.weights[start:end]

    def body_words(self, docnum: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Where each word of this segment's document ``docnum``'s body starts, and how long
        it is (LONG_WORD: that or longer; None: an older file keeps no lengths); (None, None)
        if the file does not say (one of 0.2.0.dev0, or a body too long to have them)."""
        if self._word_index_at is None:
            return None, None
        start, end = self._word_index_at[docnum], self._word_index_at[docnum + 1]
        if end <= start:
            return None, None
        lengths = None if self.word_lengths is None else self.word_lengths[start:end]
        return self.word_starts[start:end], lengths

    def matched_positions(
        self, field: str, texts: Iterable[str], docnums: Sequence[int]
    ) -> dict[int, dict[int, str]] | None:
        """Where the terms ``texts`` occur in each of ``docnums`` (this segment's, ascending):
        position → term. None if the file keeps no positions for ``field`` (one of 0.2.0.dev0
        keeps none) or they are damaged. (:meth:`matched_words`, with the terms' texts.)"""
        texts = list(texts)
        found = self.matched_words(field, texts, docnums)
        if found is None:
            return None
        lookup = self._lookup(field) or {}
        text_of = {lookup[text]: text for text in texts if text in lookup}
        return {
            docnum: {position: text_of[slot] for position, slot in zip(*hits, strict=True)}
            for docnum, hits in found.items()
        }

    def matched_words(
        self, field: str, texts: Iterable[str], docnums: Sequence[int]
    ) -> dict[int, Matched] | None:
        """Where the terms ``texts`` occur in each of ``docnums`` (this segment's, ascending):
        the positions in order, and the slot of the term at each (what a snippet needs: which
        words match, and which match the same term). None if the file keeps no positions for
        ``field`` (one of 0.2.0.dev0 keeps none) or they are damaged.

        Bodies whose words are numbered (``word_terms``) are read in one pass over their
        words; the others with one search of each term's postings, then one pass over all
        terms and documents (term by term, this was a third of a page's snippets)."""
        place = self._fields.get(field, {}).get("values")
        lookup = self._lookup(field)
        if place is None or lookup is None or self.value_starts is None:
            return None
        found: dict[int, Matched] = dict.fromkeys(docnums, _NO_HITS)
        slots = [slot for text in texts if (slot := lookup.get(text)) is not None]
        if not slots or not docnums or not len(self.ids):
            return found
        if self.word_terms is not None:
            docnums = self._matched_words(slots, docnums, found)
            if not docnums:
                return found
        wanted = np.asarray(docnums, dtype=self.ids.dtype)
        held = np.array(slots)
        firsts, lasts = self.starts[held], self.starts[held + 1]
        bounds = zip(firsts.tolist(), lasts.tolist(), strict=True)
        at = np.stack([np.searchsorted(self.ids[first:last], wanted) for first, last in bounds])
        at += firsts[:, None]
        inside = at < lasts[:, None]
        at[~inside] = 0
        term_of, doc_of = np.nonzero(inside & (self.ids[at] == wanted))  # term by term, in order
        first_posting, first_value = place
        values = at[term_of, doc_of] - first_posting + first_value
        begins, finishes = self.value_starts[values].tolist(), self.value_starts[values + 1].tolist()
        base = self._base + self._parts["values"][0]
        read: dict[int, dict[int, int]] = {docnum: {} for docnum in docnums}
        try:
            for term, doc, begin, finish in zip(
                term_of.tolist(), doc_of.tolist(), begins, finishes, strict=True
            ):
                positions = decode_positions(bytes(self._view[base + begin : base + finish]))
                read[docnums[doc]].update(dict.fromkeys(positions, slots[term]))
        except UntrustedIndexError:
            raise
        except Exception:  # values damaged past the bounds load() checks: Whoosh's decoder fails
            return None
        for docnum, matched in read.items():
            positions = sorted(matched)
            found[docnum] = (positions, [matched[position] for position in positions])
        return found

    def _matched_words(
        self, slots: list[int], docnums: Sequence[int], found: dict[int, Matched]
    ) -> list[int]:
        """Fill ``found`` from the words' term slots (``word_terms``) of ``docnums``: where one
        of ``slots`` is. Returns the documents whose words were not numbered (their positions
        are read from the postings). One pass for the page, where reading each term's
        postings searched them and decoded a value per matched document; a few numpy calls
        in all (each costs microseconds in a search: the rest is read in Python)."""
        index, terms = self._word_index_at, self._word_terms_at
        spans = [(index[docnum], index[docnum + 1]) for docnum in docnums]
        words = np.concatenate([self.word_terms[begin:end] for begin, end in spans])
        if len(slots) <= _COMPARED_SLOTS:  # a few terms (most queries): compared
            matched = words == slots[0]
            for slot in slots[1:]:
                matched |= words == slot
        else:
            matched = self._among(words, slots)
        hits = np.flatnonzero(matched)
        hit_list, slot_list = hits.tolist(), words[hits].tolist()
        unread = []  # no words kept (a body too long for them), or not numbered: read from postings
        first = cut = 0
        for docnum, (begin, end) in zip(docnums, spans, strict=True):
            last = first + end - begin
            if end == begin or terms[begin] == NOT_KEPT:  # a writer numbers all of a body's words or none
                unread.append(docnum)
            elif (done := bisect_left(hit_list, last, cut)) > cut:
                found[docnum] = ([hit - first for hit in hit_list[cut:done]], slot_list[cut:done])
                cut = done
            first = last
        return unread

    def _among(self, words: np.ndarray, slots: list[int]) -> np.ndarray:
        """Which of ``words`` (term slots) are among ``slots``: read from a table of the
        segment's terms, marked for the call (a binary search of the slots per word was 50 µs
        a page; the table is one byte a term, made once). NO_TERM and NOT_KEPT read the
        table's last two entries, never marked; a damaged file's slot past the terms wraps."""
        with self._table_lock:
            if self._slot_table is None:
                self._slot_table = np.zeros(len(self.starts) + 1, dtype=bool)  # terms, and two more
            table = self._slot_table
            table[slots] = True
            try:
                return table.take(words, mode="wrap")
            finally:
                table[slots] = False

    def count(self, field: str, text: str) -> int:
        """How many postings the term has here (deleted documents' too)."""
        slot = (self._lookup(field) or {}).get(text)
        return 0 if slot is None else self._start_at[slot + 1] - self._start_at[slot]


_EMPTY = (np.zeros(0, np.int32), np.zeros(0, np.float32))
# a body's matched word positions, in order, and each one's term slot
Matched = tuple[Sequence[int], Sequence[int]]
_NO_HITS: Matched = ((), ())  # shared by the bodies with none: immutable
_COMPARED_SLOTS = 4  # up to this many terms, a body's words are compared with each
_POSITIONS = Positions()
# Whoosh's encoding of positions: their count (4 bytes), then their deltas pickled (protocol
# 2): PROTO 2, EMPTY_LIST, BINPUT 0, then MARK … APPENDS or one APPEND, maybe STOP.
_LIST_START = b"\x80\x02]q\x00"
_INT1, _INT2, _INT4 = 0x4B, 0x4D, 0x4A  # BININT1, BININT2, BININT
_SKIPPED = frozenset(b"(ea")  # MARK, APPENDS, APPEND
_ALL_INT1 = bytes([_INT1]) * 65536  # the opcodes of a list of small deltas (sliced to its length)


CACHED_VALUE_BYTES = 64  # a few positions' encoding: the cache holds at most 65,536 of them


def decode_positions(value: bytes) -> tuple[int, ...]:
    """The positions a posting's value holds, read as :meth:`whoosh.formats.Positions.
    decode_positions` reads them, 3x faster: the opcodes Whoosh writes are read here and
    anything else goes to Whoosh's decoder (whose unpickler refuses code, :mod:`safepickle`).
    Short values are cached: most terms occur once or twice in a body, so a few encodings
    are most of them (a long one, a frequent word of a huge document, is not kept)."""
    return _decode_cached(value) if len(value) <= CACHED_VALUE_BYTES else _decode(value)


def _decode(value: bytes) -> tuple[int, ...]:
    if not value.startswith(_LIST_START, 4):
        return tuple(_POSITIONS.decode_positions(value))
    body = value[4 + len(_LIST_START) :]
    if (
        len(body) % 2
        and body[:1] == b"("
        and body[-2:] == b"e."
        and body[1:-2:2] == _ALL_INT1[: len(body) // 2 - 1]
    ):
        return tuple(itertools.accumulate(body[2:-2:2]))  # every delta under 256: read in C
    deltas = []
    at, end = 4 + len(_LIST_START), len(value)
    while at < end:
        code = value[at]
        if code == _INT1:
            deltas.append(value[at + 1])
            at += 2
        elif code == _INT2:
            deltas.append(int.from_bytes(value[at + 1 : at + 3], "little"))
            at += 3
        elif code == _INT4:
            deltas.append(int.from_bytes(value[at + 1 : at + 5], "little", signed=True))
            at += 5
        elif code in _SKIPPED:
            at += 1
        elif code == 0x2E and at == end - 1:  # STOP
            break
        else:
            return tuple(_POSITIONS.decode_positions(value))
    if at > end:  # an operand cut short
        return tuple(_POSITIONS.decode_positions(value))
    return tuple(itertools.accumulate(deltas))


_decode_cached = lru_cache(maxsize=1 << 16)(_decode)


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
    kept = ("values", "value_starts", "word_starts", "word_index", "word_terms", "word_lengths")
    optional = [name for name in kept if name in parts]
    for name in ("starts", "ids", "weights", *optional, *(f"terms:{field}" for field in fields)):
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
    if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= doc_count):
        return False
    return _valid_values(arrays, header) and _valid_word_starts(arrays, header, doc_count)


def _valid_word_starts(arrays: SegmentArrays, header: dict, doc_count: int) -> bool:
    """One index entry per document and one more, ascending, within the starts; or neither
    part (a file of 0.2.0.dev0)."""
    index, starts = arrays.word_index, arrays.word_starts
    if index is None or starts is None:
        absent = not {"word_starts", "word_terms", "word_lengths"} & header["parts"].keys()
        return index is None and starts is None and absent
    if arrays.word_terms is not None and len(arrays.word_terms) != len(starts):
        return False
    if arrays.word_lengths is not None and len(arrays.word_lengths) != len(starts):
        return False
    return (
        len(index) == doc_count + 1
        and index[0] == 0
        and index[-1] == len(starts)
        and not bool(np.any(np.diff(index) < 0))
    )


def _valid_values(arrays: SegmentArrays, header: dict) -> bool:
    """The positions' bounds: each value within the values part, each positioned field's
    postings within the values counted."""
    valued = {name: f["values"] for name, f in header["fields"].items() if "values" in f}
    value_starts = arrays.value_starts
    if value_starts is None or "values" not in header["parts"]:
        return not valued and value_starts is None and "values" not in header["parts"]
    if len(value_starts) == 0 or value_starts[0] != 0 or bool(np.any(np.diff(value_starts) < 0)):
        return False
    if value_starts[-1] > header["parts"]["values"][1]:
        return False
    for name, place in valued.items():
        if not (
            isinstance(place, list) and len(place) == 2 and all(isinstance(n, int) and n >= 0 for n in place)
        ):
            return False
        first, last = header["fields"][name]["terms"]
        first_posting, first_value = place
        postings = int(arrays.starts[last] - arrays.starts[first])
        if first_posting != arrays.starts[first] or first_value + postings > len(value_starts) - 1:
            return False
    return True


def derive(reader: Any, fields: Iterable[str], out: IO[bytes], positioned: Iterable[str] = ()) -> None:
    """Write the arrays of a segment Whoosh wrote (its reader ``reader``) to ``out``: its
    terms and postings read through Whoosh's matchers, deleted documents included (a query
    leaves them out as it does those of any segment)."""
    writer = ArraysWriter(fields, positioned)
    positioned = set(positioned)
    try:
        if positioned:
            for docnum in range(reader.doc_count_all()):  # deleted ones too: their numbers hold
                starts, ends = body_word_spans(reader.stored_fields(docnum).get("body", ""))
                writer.document(docnum, starts, word_ends=ends)
        for field in sorted(set(fields) & set(reader.indexed_field_names())):
            for term, _ in reader.iter_field(field):
                writer.start_terms(field, [term])
                found = list(all_postings(reader, field, term, values=field in positioned))
                ids, weights, *values = zip(*found, strict=True) if found else ((), ())
                writer.postings(ids, weights, *values)
        writer.write(out, reader.doc_count_all())
    finally:
        writer.close()


def all_postings(reader: Any, field: str, term: str | bytes, values: bool = False) -> Iterable[tuple]:
    """(document number, weight) of every posting of a term in one segment, its deleted
    documents' too (with ``values``, its value third): Whoosh filters those out, and its
    filter has already moved its matcher past the first live one, so the matcher under the
    filter starts over."""
    matcher = reader.postings(field, term)
    child = getattr(matcher, "child", None)
    if child is not None:  # the segment's deletions filter
        child.reset()
        matcher = child
    return block_postings(matcher, values)


def block_postings(matcher: Any, values: bool = False) -> Iterable[tuple]:
    """(document number, weight) of a leaf matcher's postings (with ``values``, and value),
    read a block at a time where it reads blocks (W3), else one at a time."""
    if not hasattr(matcher, "_read_ids") or not hasattr(matcher, "_next_block"):
        while matcher.is_active():
            yield (
                (matcher.id(), matcher.weight(), matcher.value())
                if values
                else (matcher.id(), matcher.weight())
            )
            matcher.next()
        return
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._weights is None:
            matcher._read_weights()
        start = matcher._i
        if values:
            if matcher._values is None:
                matcher._read_values()
            yield from zip(
                matcher._ids[start:], matcher._weights[start:], matcher._values[start:], strict=True
            )
        else:
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
            derive(reader, scored_fields(schema), out, positioned_fields(schema))
    finally:
        reader.close()
