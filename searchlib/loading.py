"""Read documents from files: the seed ``.txt`` format, ``.jsonl``, and directories of them.

A file that cannot be read is reported as a :class:`Skipped` with its path and the
reason, and loading goes on with the rest.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from searchlib.documents import Document, to_datetime
from searchlib.fields import Field, check_values

TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
JSON_SUFFIXES = (".json",)
SUFFIXES = TEXT_SUFFIXES + JSONL_SUFFIXES + JSON_SUFFIXES  # what a directory walk reads
MAX_FILE_BYTES = 64_000_000
_TITLE_DATE = re.compile(r"\s+(\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?)\s*$")
_SOURCE_LINE = re.compile(
    r"^\s*(?:Kilde|Source|Quelle|Fuente|Источник|مصدر|المصدر)\s*[:：]?\s*(\S*)\s*$",
    re.IGNORECASE,
)
RECORD_KEYS = frozenset({"id", "title", "body", "text", "lang", "date", "source"})
NO_FIELDS: Mapping[str, Field] = {}
MAX_UNKNOWN_KEYS = 100  # reported per file, at most: a file of random keys cannot fill memory
_URL = re.compile(r"https?://\S+")
_WORDLIKE = re.compile(r"[^\W_]")


@attrs.frozen
class Unrecognized:
    """Keys of a file's records that are neither searchlib's nor a declared field's: not
    indexed, and reported once per file."""

    path: str
    keys: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.path}: keys that are not fields of the index, not indexed: {', '.join(self.keys)}"


@attrs.frozen
class Skipped:
    """A file, or a line of one, that was not indexed, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def load_paths(
    paths: Iterable[str | os.PathLike[str]],
    max_bytes: int = MAX_FILE_BYTES,
    hidden: bool = False,
    declared: Mapping[str, Field] = NO_FIELDS,
) -> Iterator[Document | Skipped | Unrecognized]:
    """Documents from files and directories (recursively), with what had to be skipped.

    A directory walk reads the files whose suffix says what they hold (:data:`SUFFIXES`)
    and passes over hidden files and directories (``.name``) unless ``hidden``; a file
    named explicitly is always read, by its suffix (JSONL, JSON, else text). A file over
    ``max_bytes`` is skipped with a message rather than held in memory whole. JSON keys
    that name a field of ``declared`` fill it (a bad value skips the record, saying why);
    other keys are reported once per file (:class:`Unrecognized`).
    """
    for path in paths:
        path = Path(path)
        if path.is_dir():
            yield from _load_directory(path, max_bytes, hidden, declared)
        elif not path.exists():
            yield Skipped(str(path), "no such file or directory")
        else:
            yield from load_file(path, max_bytes, path.name, declared)


def _load_directory(
    root: Path, max_bytes: int, hidden: bool, declared: Mapping[str, Field]
) -> Iterator[Document | Skipped | Unrecognized]:
    for directory, subdirs, files in os.walk(root, onerror=None, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if hidden or not d.startswith("."))
        for name in sorted(files):
            path = Path(directory, name)
            if path.suffix.lower() in SUFFIXES and (hidden or not name.startswith(".")):
                yield from load_file(path, max_bytes, path.relative_to(root).as_posix(), declared)


def load_file(
    path: Path,
    max_bytes: int = MAX_FILE_BYTES,
    doc_id: str | None = None,
    declared: Mapping[str, Field] = NO_FIELDS,
) -> Iterator[Document | Skipped | Unrecognized]:
    """The documents of one file, read by its suffix: JSONL, JSON, or else text.

    A text file is one document, whose id is ``doc_id``: its path relative to the
    directory it was found in (``2023/notes.txt``), or its name when given alone. JSON
    and JSONL documents carry their own ids.
    """
    try:
        size = path.stat().st_size
        if size > max_bytes and path.suffix.lower() not in JSONL_SUFFIXES:  # JSONL: per line
            yield Skipped(
                str(path), f"{size / 1e6:.0f} MB, over the {max_bytes / 1e6:g} MB limit (--max-file-mb)"
            )
            return
        with path.open("rb") as stream:  # bounded again: a pipe or a growing file has no size
            yield from load_stream(
                stream, path.suffix.lower(), doc_id or path.name, str(path), max_bytes, declared
            )
    except OSError as error:
        yield Skipped(str(path), error.strerror or str(error))


def load_stream(
    stream: BinaryIO,
    suffix: str,
    doc_id: str,
    origin: str,
    max_bytes: int = MAX_FILE_BYTES,
    declared: Mapping[str, Field] = NO_FIELDS,
) -> Iterator[Document | Skipped | Unrecognized]:
    """The documents of a stream (standard input, a pipe), read as ``suffix`` says: JSONL a
    line at a time, each line (a document) of at most ``max_bytes``, however long the
    stream; anything else whole, if it holds at most ``max_bytes``."""
    if suffix in JSONL_SUFFIXES:
        yield from stream_jsonl(stream, origin, max_bytes, declared)
        return
    raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        yield Skipped(origin, f"over the {max_bytes / 1e6:g} MB limit (--max-file-mb)")
        return
    yield from parse_bytes(raw, suffix, doc_id, origin, declared)


def parse_bytes(
    raw: bytes, suffix: str, doc_id: str, origin: str, declared: Mapping[str, Field] = NO_FIELDS
) -> Iterator[Document | Skipped | Unrecognized]:
    """The documents of a file's bytes, read as its suffix says (``.json``, else text)."""
    text = _decode(raw)
    if text is None:
        yield Skipped(origin, "not UTF-8 text (binary, or another encoding)")
    elif suffix in JSON_SUFFIXES:
        yield from parse_json(text, origin, declared)
    else:
        yield parse_txt(text, doc_id, origin)


def parse_json(
    text: str, origin: str, declared: Mapping[str, Field] = NO_FIELDS
) -> Iterator[Document | Skipped | Unrecognized]:
    """A JSON file: one document object, or an array of them (as JSONL has one a line)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        yield Skipped(origin, f"not valid JSON ({error.msg}, line {error.lineno})")
        return
    yield from json_records(value, origin, declared)


def json_records(
    value: object, origin: str, declared: Mapping[str, Field] = NO_FIELDS
) -> Iterator[Document | Skipped | Unrecognized]:
    """The documents of parsed JSON: one object, or an array of them."""
    records = value if isinstance(value, list) else [value]
    unknown: set[str] = set()
    for number, record in enumerate(records, start=1):
        where = f"{origin}[{number}]" if isinstance(value, list) else origin
        yield from _record_document(record, where, declared, unknown)
    if unknown:
        yield Unrecognized(origin, tuple(sorted(unknown)))


def _decode(raw: bytes) -> str | None:
    """UTF-8 (a BOM allowed) or UTF-16 with a BOM; anything else, or NUL bytes, is not text."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            return None
        return None if "\x00" in text else text
    if b"\x00" in raw:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def parse_txt(text: str, doc_id: str, origin: str = "") -> Document | Skipped:
    """The seed format: the first line with a word in it is the title, maybe ending in a
    date-time; a ``Kilde:``/``Source:``/``Источник:``/``مصدر`` line gives the source URL.

    Lines of markup debris (``![]() |``) have no word and are passed over.
    """
    lines = text.splitlines()
    title_index = next((i for i, line in enumerate(lines) if _WORDLIKE.search(line)), None)
    if title_index is None:
        return Skipped(origin or doc_id, "empty file" if not text.strip() else "no text in file")
    title = lines[title_index].strip().strip("|").strip()
    date = None
    if found := _TITLE_DATE.search(title):
        date = _date_or_none(found.group(1))
        if date is not None:
            title = title[: found.start()].rstrip()
    source = None
    body_lines = []
    for line in lines[title_index + 1 :]:
        if found := _SOURCE_LINE.match(line):
            url = found.group(1) or ""
            source = url if _URL.match(url) else source
            continue
        body_lines.append(line)
    body = "\n".join(body_lines).strip()
    return Document(id=doc_id, title=title, body=body, date=date, source=source)


def stream_jsonl(
    stream: BinaryIO, origin: str, max_bytes: int = MAX_FILE_BYTES, declared: Mapping[str, Field] = NO_FIELDS
) -> Iterator[Document | Skipped | Unrecognized]:
    """The documents of a JSONL stream, read a line at a time: memory holds one line, never
    the file. UTF-8 (a BOM allowed) or UTF-16 with a BOM; a line over ``max_bytes`` is
    skipped (and read past, not held), as is one with NUL bytes."""
    head = stream.read(2)
    encoding = "utf-16" if head in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    text = io.TextIOWrapper(_Prefixed(head, stream), encoding=encoding, errors="strict", newline="")
    limit = max(1, max_bytes // (2 if encoding == "utf-16" else 1))  # characters for bytes, at most
    number = 0
    unknown: set[str] = set()
    try:
        while line := text.readline(limit + 1):
            number += 1
            where = f"{origin}:{number}"
            if len(line) > limit and not line.endswith("\n"):
                while (rest := text.readline(1 << 20)) and not rest.endswith("\n"):
                    pass
                yield Skipped(where, f"a line over the {max_bytes / 1e6:g} MB limit (--max-file-mb)")
                continue
            if len(line.encode("utf-8", "surrogatepass")) > max_bytes:
                yield Skipped(where, f"a line over the {max_bytes / 1e6:g} MB limit (--max-file-mb)")
                continue
            if "\x00" in line:
                yield Skipped(where, "not text (NUL bytes: binary?); the rest of the file is skipped")
                return
            yield from _jsonl_line(line, where, declared, unknown)
    except UnicodeDecodeError:
        yield Skipped(
            f"{origin}:{number + 1}",
            "not UTF-8 text (binary, or another encoding); the rest of the file is skipped",
        )
    if unknown:
        yield Unrecognized(origin, tuple(sorted(unknown)))


class _Prefixed(io.RawIOBase):
    """A binary stream with bytes already read from it put back in front."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _jsonl_line(
    line: str, where: str, declared: Mapping[str, Field], unknown: set[str]
) -> Iterator[Document | Skipped]:
    if not line.strip():
        return
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        yield Skipped(where, f"not valid JSON ({error.msg})")
        return
    yield from _record_document(record, where, declared, unknown)


def _record_document(
    record: object, where: str, declared: Mapping[str, Field], unknown: set[str]
) -> Iterator[Document | Skipped]:
    if not isinstance(record, dict):
        yield Skipped(where, "not a JSON object")
        return
    if len(unknown) < MAX_UNKNOWN_KEYS:
        unknown.update(key for key in record if key not in RECORD_KEYS and key not in declared)
    try:
        yield _document_from_record(record, declared)
    except (KeyError, TypeError, ValueError) as error:
        yield Skipped(where, str(error.args[0]) if error.args else type(error).__name__)


def _document_from_record(record: dict, declared: Mapping[str, Field] = NO_FIELDS) -> Document:
    if "id" not in record:
        raise KeyError("missing 'id'")
    doc_id = record["id"]
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    body = record.get("body", record.get("text", ""))
    for name, value in (("id", doc_id), ("title", record.get("title", "")), ("body", body)):
        if not isinstance(value, str):
            raise TypeError(f"'{name}' must be text, not {type(value).__name__}")
    date = record.get("date")
    if date is not None and not isinstance(date, str):
        raise TypeError(f"'date' must be an ISO 8601 string, not {type(date).__name__}")
    return Document(
        id=doc_id,
        title=record.get("title", ""),
        body=body,
        lang=record.get("lang"),
        date=date,
        source=record.get("source"),
        fields=check_values(declared, {k: v for k, v in record.items() if k in declared}, doc_id),
    )


def _date_or_none(value: str) -> datetime | None:
    """The date at the end of a title line, if it is one."""
    try:
        return to_datetime(value)
    except ValueError:
        return None
