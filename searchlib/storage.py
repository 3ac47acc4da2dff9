"""Whoosh file storage whose commits survive a power loss, not only a killed process.

Whoosh commits by writing new segment files and then renaming a new table of contents
over the old one, so a killed process leaves the previous commit whole. But no Whoosh
distribution calls fsync: after a power loss or OS crash the rename can reach the disk
before the data it points to. Here every file the index writes is fsynced when closed,
and the directory before and after each rename, so a commit is on disk when
``commit()`` returns and the table of contents never points at unwritten data.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path
from typing import Any

from whoosh.codec.base import Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import TOC, FileIndex
from whoosh.util.filelock import FcntlLock
from whoosh.writing import SegmentWriter

from searchlib import commits, mapped, postings, safepickle
from searchlib.errors import IndexCorruptError

INDEX_NAME = "searchlib"

safepickle.install()  # no index this process opens runs code from its pickles
mapped.install()  # nor copies its segments into memory
postings.install()  # and term indexes are written in arrays
ID_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _unpredictable_id(cls: type, size: int = 16) -> str:
    """A new segment's id, from the OS's randomness. Whoosh drew it from :mod:`random`, which
    a program that seeds ``random`` (hypothesis does, per example) replays: a build's new
    segment then had a committed segment's id, and giving it up deleted that one's files."""
    return "".join(secrets.choice(ID_CHARS) for _ in range(size))


Segment._random_id = classmethod(_unpredictable_id)  # type: ignore[method-assign]


class DurableFileStorage(FileStorage):
    """A :class:`~whoosh.filedb.filestore.FileStorage` that fsyncs what it writes, reads
    only files as committed (:class:`searchlib.commits.Seals`), and never follows a
    symbolic link planted under one of its names."""

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(path, *args, **kwargs)
        self.seals = commits.Seals(self.folder, INDEX_NAME)
        self._temporaries: list[_TemporaryStorage] = []

    def list(self) -> list[str]:
        """The directory's files. Whoosh's own returns none when listing fails (too many
        open files, say): the index then looked absent, and nothing was cleaned up."""
        return os.listdir(self.folder)

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        path = self._fpath(name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as error:
            expected = self.seals.expected.get(name)
            if error.errno == errno.ENOENT and expected is not None:
                problem = commits.damage(self.folder, name, expected)
                raise IndexCorruptError(f"{problem}; `searchlib check --repair` rolls back") from None
            if error.errno == errno.ELOOP:
                raise IndexCorruptError(
                    f"{path}: a symbolic link where the index keeps a file; refused"
                ) from None
            raise
        try:
            self.seals.verify(name, fd)
            return StructFile(os.fdopen(fd, "rb"), name=name, **kwargs)
        except BaseException:
            os.close(fd)
            raise

    def create_file(self, name: str, excl: bool = False, mode: str = "wb", **kwargs: Any) -> Any:
        """A new file: never one that exists, never through a link (``O_EXCL``)."""
        if self.readonly:
            return super().create_file(name, excl, mode, **kwargs)  # raises ReadOnlyError
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        structfile = StructFile(
            os.fdopen(os.open(self._fpath(name), flags, 0o644), mode), name=name, **kwargs
        )
        previous = structfile.onclose

        def sync_then_close(f: Any) -> None:
            if previous:
                previous(f)
            handle = f.file
            handle.flush()
            os.fsync(handle.fileno())

        structfile.onclose = sync_then_close
        return structfile

    def rename_file(self, oldname: str, newname: str, safe: bool = False) -> None:
        self.sync_directory()  # the files the new name will point to are listed on disk
        super().rename_file(oldname, newname, safe)
        self.sync_directory()  # and so is the rename itself

    def open_index(self, indexname: str = INDEX_NAME, schema: Any = None) -> SealedIndex:
        return SealedIndex(self, schema=schema, indexname=indexname)

    def lock(self, name: str) -> NoFollowLock:
        return NoFollowLock(self._fpath(name))

    def temp_storage(self, name: str | None = None) -> FileStorage:
        """A directory of its own for a writer's temporary files. Whoosh would use
        ``<index>.tmp`` and empty whatever that name points to: a symbolic link planted
        there made it delete another directory's files."""
        temporary = _TemporaryStorage(os.path.join(self.folder, f".searchlib-tmp-{os.urandom(6).hex()}"))
        self._temporaries.append(temporary)
        return temporary

    def discard_temporaries(self) -> None:
        """Delete the temporary directories this storage made that are still there: a write
        that failed midway (too many open files, a full disk) leaves its column buffer."""
        for temporary in self._temporaries:
            with contextlib.suppress(OSError):
                temporary.destroy()
        self._temporaries.clear()

    def sync_directory(self) -> None:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class SealedIndex(FileIndex):
    """A Whoosh index whose writers are :class:`SealedWriter` s."""

    def writer(self, procs: int = 1, **kwargs: Any) -> SealedWriter:
        return SealedWriter(self, **kwargs)


class SealedWriter(SegmentWriter):
    """A Whoosh segment writer that commits the searchlib way, with a manifest of checksums
    and deleting only files a manifest lists (:func:`searchlib.commits.commit_toc`), and
    that leaves nothing behind if it cannot start (too many open files, a full disk): Whoosh's
    makes its new segment's files, then fails, keeping them and the lock."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        try:
            super().__init__(ix, **kwargs)
        except BaseException as error:
            commits.let_go(error)
            for part in ("perdocwriter", "fieldwriter"):
                with contextlib.suppress(Exception):
                    getattr(self, part).close()
            if getattr(self, "newsegment", None) is not None:
                with contextlib.suppress(OSError):
                    commits.delete_segment(self.storage, self.newsegment)
                    self.storage.discard_temporaries()
            if getattr(self, "writelock", None) is not None:
                with contextlib.suppress(Exception):
                    self.writelock.release()
            raise
        _store_uncompressed(self.perdocwriter)

    def _commit_toc(self, segments: list[Any]) -> None:
        commits.commit_toc(self, segments)


def _store_uncompressed(perdoc: Any) -> None:
    """Have ``perdoc`` write stored fields as zlib's uncompressed blocks (level 0): still the
    zlib data every Whoosh reads, decompressed in a tenth of the time (0.7 µs a document
    against 7.7). A search reads the stored fields of each document it shows, once, and
    that first read was most of what it spent on the page (XQuAD: 660 bytes more a
    document, 5% of the index). Whoosh keeps the level on the column's writer."""
    stored = getattr(perdoc, "_colwriters", {}).get("_stored")
    compressing = getattr(stored, "_child", None)
    if compressing is not None and hasattr(compressing, "_level"):
        compressing._level = 0


class _TemporaryStorage(FileStorage):
    """A writer's temporary directory, made only when a file is put in it (searchlib's
    builders write their postings themselves and never do) with ``mkdir``, which fails
    rather than follow anything planted under its random name."""

    def create(self) -> _TemporaryStorage:
        return self

    def create_file(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not os.path.isdir(self.folder) or os.path.islink(self.folder):
            os.mkdir(self.folder, 0o700)
        return super().create_file(name, *args, **kwargs)

    def delete_file(self, name: str) -> None:
        """Delete the file, and the directory with its last file: Whoosh's column writer
        deletes its one temporary file but never the directory."""
        super().delete_file(name)
        with contextlib.suppress(OSError):  # not empty yet
            os.rmdir(self.folder)

    def destroy(self, *args: Any, **kwargs: Any) -> None:
        if os.path.isdir(self.folder) and not os.path.islink(self.folder):
            super().destroy()


class NoFollowLock(FcntlLock):
    """The write lock, taken on the lock file itself, never through a symbolic link planted
    under its name (which made the writer create the file the link pointed to)."""

    def acquire(self, blocking: bool = False) -> bool:
        import fcntl

        self.fd = os.open(self.filename, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(self.fd)
            self.fd = None
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            return False
        self.locked = True
        return True


def create_whoosh(path: Path, schema: Any):
    """A new, empty Whoosh index at ``path`` (an empty directory), its commit sealed."""
    storage = DurableFileStorage(str(path))
    commits.write_toc(storage, INDEX_NAME, TOC(schema, [], 0), {}, 0)
    return storage.open_index(indexname=INDEX_NAME)


def open_whoosh(path: Path):
    """The Whoosh index at ``path``, on durable storage."""
    return DurableFileStorage(str(path)).open_index(indexname=INDEX_NAME)
