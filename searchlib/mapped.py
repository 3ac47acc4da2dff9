"""Reading a segment's parts in place, not copied into memory.

Whoosh maps a compound segment file into memory, then wraps each part it opens (the
term dictionary, the postings, stored fields, columns) in a ``BufferFile`` whose
``BytesIO`` copies the part: opening an index held a copy of most of it (a builder
checking ids against a 120 MB segment held 61 MB of copies, so indexing memory grew with
the index). :func:`install` gives ``BufferFile`` a buffered reader over the mapping
instead: the same reads, with only the pages read resident, and those shared with the
page cache.
"""

from __future__ import annotations

import io
from typing import Any

from whoosh.filedb import structfile

BUFFER_BYTES = 4096  # what a seek then a read brings in: a term's entry, a block's header


class _MappedPart(io.RawIOBase):
    """A raw, seekable reader of a memoryview (a part of a mapped file)."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        start = self._position
        count = max(0, min(len(buffer), len(self._view) - start))
        buffer[:count] = self._view[start : start + count]
        self._position = start + count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence == io.SEEK_END:
            offset += len(self._view)
        self._position = offset
        return offset

    def tell(self) -> int:
        return self._position


_copying_init = structfile.BufferFile.__init__


def _init_in_place(self: Any, buf: Any, name: str | None = None, onclose: Any = None) -> None:
    _copying_init(self, b"", name, onclose)  # every attribute Whoosh's version sets
    self._buf = buf
    self.file = (
        io.BufferedReader(_MappedPart(buf), BUFFER_BYTES) if isinstance(buf, memoryview) else io.BytesIO(buf)
    )


def install() -> None:
    """Make Whoosh read mapped segment parts in place. Idempotent."""
    structfile.BufferFile.__init__ = _init_in_place
