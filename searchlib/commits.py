"""Commits that damage cannot pass for whole: a manifest of checksums per commit, and rollback.

Whoosh commits by renaming a new table of contents (TOC) into place, then deletes every
file whose *name* looks like an index file's, and never checks what it reads. Here a
commit first writes a manifest, ``_searchlib_<generation>.sums``: each of its files with
its size and CRC-32 (and those of the parts of a compound segment, to say what a damaged
file held). The storage verifies a file against it before the file's first read in a
process (:class:`Seals`), cleaning deletes only files a manifest lists, and the previous
commit's files stay until the next commit succeeds, so that ``searchlib check --repair``
can go back to it.

CRC-32 finds damage (truncation, flipped bytes, a deleted or swapped file) at 6 GB/s
here, as Lucene's per-file CRC-32 footers do. It is no defence against someone who
rewrites the manifest too: that is :mod:`searchlib.safepickle`'s job (no code runs
whatever the index holds) and the CLI's ownership checks'.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import shutil
import traceback
import zlib
from collections.abc import Iterable
from typing import Any

import attrs
from whoosh.index import TOC

from searchlib import arrays
from searchlib.errors import IndexCorruptError

FORMAT = "searchlib-manifest-1"
CRC_BLOCK = 1 << 20
_COMMIT_FILE = re.compile(r"_(?P<index>.+)_(?P<generation>\d+)\.(?P<kind>toc|sums)\Z")
# Files verified in this process, by identity and expected sum: a snapshot re-opens its
# segment files, and each commit's files are read once, not at every new searcher. Both are
# emptied when full: a server that commits all day must not keep every commit's entries.
_VERIFIED: set[tuple[Any, ...]] = set()
_MANIFESTS: dict[tuple[Any, ...], Manifest] = {}  # read in this process, by file identity
MAX_VERIFIED = 1 << 16
MAX_MANIFESTS = 64


@attrs.frozen
class FileSum:
    """A committed file's size and CRC-32, and those of its parts if it is compound."""

    size: int
    crc: int
    parts: tuple[tuple[str, int, int, int], ...] = ()  # (name, offset, length, crc)
    # The file's identity when it was summed: inode, modification and change times (ns).
    # Writing, truncating or replacing a file changes them, so a file that still has them
    # is not read again to verify it (opening a large index would cost reading it all);
    # `searchlib check` reads every file whatever its identity.
    identity: tuple[int, int, int] | None = None


@attrs.frozen
class Manifest:
    generation: int
    documents: int  # in the commit, deleted ones aside
    files: dict[str, FileSum]

    def to_bytes(self) -> bytes:
        body = {
            "format": FORMAT,
            "generation": self.generation,
            "documents": self.documents,
            "files": {
                name: [s.size, s.crc, [list(part) for part in s.parts], s.identity and list(s.identity)]
                for name, s in sorted(self.files.items())
            },
        }
        text = json.dumps(body, sort_keys=True, ensure_ascii=True)
        return json.dumps({"crc": zlib.crc32(text.encode()), "manifest": text}).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Manifest:
        """The manifest in ``data``; :class:`IndexCorruptError` naming ``where`` if it is damaged."""
        try:
            outer = json.loads(data)
            text = outer["manifest"]
            if zlib.crc32(text.encode()) != outer["crc"]:
                raise ValueError("its own checksum differs")
            body = json.loads(text)
            if body["format"] != FORMAT:
                raise ValueError(f"unknown format {body['format']!r}")
            files = {
                name: FileSum(
                    size, crc, tuple((p, o, n, c) for p, o, n, c in parts), identity and tuple(identity)
                )
                for name, (size, crc, parts, identity) in body["files"].items()
            }
            return cls(int(body["generation"]), int(body["documents"]), files)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise IndexCorruptError(f"{where}: the checksums of a commit are damaged ({error})") from None


def toc_name(indexname: str, generation: int) -> str:
    return f"_{indexname}_{generation}.toc"


def manifest_name(indexname: str, generation: int) -> str:
    return f"_{indexname}_{generation}.sums"


def generations(names: Iterable[str], indexname: str, kind: str = "toc") -> list[int]:
    """The generations of the tables of contents (``kind="sums"``: manifests) in ``names``."""
    found = []
    for name in names:
        match = _COMMIT_FILE.match(name)
        if match and match["index"] == indexname and match["kind"] == kind:
            found.append(int(match["generation"]))
    return sorted(found)


def read_manifest(folder: str, indexname: str, generation: int) -> Manifest | None:
    """Commit ``generation``'s manifest, None if it has none (written before searchlib 0.3)."""
    path = os.path.join(folder, manifest_name(indexname, generation))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise IndexCorruptError(
            f"{path}: the checksums of commit {generation} cannot be read ({error})"
        ) from None
    with os.fdopen(fd, "rb") as file:
        stat = os.fstat(file.fileno())
        key = (path, stat.st_dev, stat.st_size, *identity(stat))
        manifest = _MANIFESTS.get(key)
        if manifest is None:
            if len(_MANIFESTS) >= MAX_MANIFESTS:
                _MANIFESTS.clear()
            manifest = _MANIFESTS[key] = Manifest.from_bytes(file.read(), path)
        return manifest


# -- sums -------------------------------------------------------------------------------


def crc_of(fd: int, offset: int = 0, length: int | None = None) -> int:
    """The CRC-32 of ``length`` bytes (all to the end if None) of the open file ``fd``, read
    a block at a time: hashing a large segment maps none of it into memory."""
    size = os.fstat(fd).st_size
    end = size if length is None else min(size, offset + length)
    crc, buffer = 0, bytearray(min(CRC_BLOCK, max(0, end - offset)))
    while offset < end:
        view = memoryview(buffer)[: min(len(buffer), end - offset)]
        count = os.preadv(fd, [view], offset)
        if count <= 0:
            break
        crc = zlib.crc32(view[:count], crc)
        offset += count
    return crc


def sum_file(path: str) -> FileSum:
    """The sums of the file at ``path``, with its parts' if it is a compound segment."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        size = os.fstat(fd).st_size
        parts = tuple((name, off, n, crc_of(fd, off, n)) for name, off, n in _compound_parts(path))
        return FileSum(size, crc_of(fd), parts, identity(os.fstat(fd)))
    finally:
        os.close(fd)


def identity(stat: os.stat_result) -> tuple[int, int, int]:
    return (stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns)


def _compound_parts(path: str) -> list[tuple[str, int, int]]:
    """The (name, offset, length) of each part of a compound segment file (``.seg``)."""
    if not path.endswith(".seg"):
        return []
    from whoosh.filedb.compound import CompoundStorage
    from whoosh.filedb.structfile import StructFile

    try:
        compound = CompoundStorage(StructFile(open(path, "rb")), use_mmap=False)  # noqa: SIM115
    except Exception:  # not a readable compound file: its parts only name damage, so none
        return []
    try:
        return sorted((name, int(e["offset"]), int(e["length"])) for name, e in compound._dir.items())
    finally:
        compound.close()


# -- what a file holds, for messages ----------------------------------------------------


def describe(name: str, part: str | None = None) -> str:
    """What the index file ``name`` (or its ``part``) holds, in words."""
    if name.endswith(".toc"):
        return "the table of contents (schema, segment list, deleted documents)"
    if name.endswith(".sums"):
        return "the checksums of a commit"
    segment = name.split("_", 1)[-1].split(".", 1)[0]
    if part is None:
        return f"segment {segment} (terms, postings, stored fields, field lengths)"
    return f"segment {segment}: {_describe_part(part)}"


def _describe_part(part: str) -> str:
    suffix = part.split(".", 1)[-1]
    if suffix == "trm":
        return "its term dictionary"
    if suffix == "pst":
        return "its postings"
    if suffix == "_stored.col":
        return "its stored fields (ids, titles, bodies, dates)"
    if suffix.endswith("_len.col"):
        return f"the lengths of field {suffix[1 : -len('_len.col')]}"
    if suffix.endswith(".col"):
        return f"the column of field {suffix[: -len('.col')]}"
    return f"its part {part}"


def damage(folder: str, name: str, expected: FileSum, fd: int | None = None) -> str | None:
    """What is wrong with file ``name`` against its sums, in words; None if nothing."""
    path = os.path.join(folder, name)
    opened = fd is None
    if opened:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return f"{path}: {describe(name)} is missing"
        except OSError as error:
            return f"{path}: {describe(name)} cannot be read ({error.strerror or error})"
    assert fd is not None
    try:
        size = os.fstat(fd).st_size
        if size != expected.size:
            return (
                f"{path}: {describe(name)} is damaged: {size:,} bytes where {expected.size:,} were committed"
            )
        if crc_of(fd) == expected.crc:
            return None
        damaged = [part for part, offset, length, crc in expected.parts if crc_of(fd, offset, length) != crc]
        what = "; ".join(describe(name, part) for part in damaged) or describe(name)
        return f"{path}: {what} — damaged (its checksum differs from the committed one)"
    finally:
        if opened:
            os.close(fd)


class Seals:
    """The checksums a storage verifies files against as it opens them.

    Opening a commit's table of contents loads that commit's manifest; each file the two
    latest loaded list is then verified before it is read, once per process (unless
    MAX_VERIFIED others were since). A table of contents without a manifest is an index
    from before searchlib 0.3 (read unverified), unless other commits in the directory have
    manifests: then it is no file searchlib wrote, and is refused.
    """

    def __init__(self, folder: str, indexname: str) -> None:
        self.folder = folder
        self.indexname = indexname
        self.expected: dict[str, FileSum] = {}  # the files of the two latest commits loaded
        self._loaded: dict[int, dict[str, FileSum]] = {}  # their files, by generation

    def verify(self, name: str, fd: int) -> None:
        """Raise :class:`IndexCorruptError` if the open file ``name`` is not as committed."""
        match = _COMMIT_FILE.match(name)
        if match and match["index"] == self.indexname and match["kind"] == "toc":
            self._load(int(match["generation"]))
        expected = self.expected.get(name)
        if expected is None:
            return
        stat = os.fstat(fd)
        if stat.st_size == expected.size and identity(stat) == expected.identity:
            return  # untouched since its commit summed it
        key = (self.folder, name, stat.st_dev, stat.st_size, *identity(stat), expected)
        if key in _VERIFIED:
            return
        problem = damage(self.folder, name, expected, fd)
        if problem:
            raise IndexCorruptError(f"{problem}; `searchlib check` tells more, `--repair` rolls back")
        if len(_VERIFIED) >= MAX_VERIFIED:
            _VERIFIED.clear()
        _VERIFIED.add(key)

    def _load(self, generation: int) -> None:
        # A later commit's checksums without its table of contents: the directory is listed
        # only then (a later commit has the next generation's checksums, whatever it lost).
        later = os.path.join(self.folder, manifest_name(self.indexname, generation + 1))
        names = os.listdir(self.folder) if os.path.lexists(later) else []
        missing = missing_commits(self.folder, names, self.indexname, generation)
        if missing:
            path = os.path.join(self.folder, toc_name(self.indexname, missing[-1]))
            raise IndexCorruptError(
                f"{path}: the table of contents of commit {missing[-1]}, the latest, is missing "
                f"(its checksums are there); `searchlib check --repair` rolls back to commit {generation}"
            )
        manifest = read_manifest(self.folder, self.indexname, generation)
        if manifest is not None:
            # Two commits, as cleaning keeps (a searcher of the one before may still open a
            # file): a process that sees commit after commit does not keep every one's files.
            self._loaded[generation] = manifest.files
            for older in sorted(self._loaded)[:-2]:
                self._loaded.pop(older, None)
            self.expected = {
                name: sums for _, files in sorted(self._loaded.items()) for name, sums in files.items()
            }
            return
        sealed = generations(names or os.listdir(self.folder), self.indexname, "sums")
        if sealed:
            path = os.path.join(self.folder, toc_name(self.indexname, generation))
            raise IndexCorruptError(
                f"{path}: {describe(path)} of commit {generation} has no checksums while commit "
                f"{sealed[-1]} has: it is no file searchlib wrote (or its checksums were deleted)"
            )


def missing_commits(folder: str, names: list[str], indexname: str, generation: int) -> list[int]:
    """Commits after ``generation`` whose manifest is there and whose table of contents is
    not: it was deleted. (A commit that is being written, or was interrupted, has its
    table of contents under a temporary name until the rename that makes it the latest.)"""
    missing = []
    for later in generations(names, indexname, "sums"):
        toc = toc_name(indexname, later)
        if later <= generation or any(name.startswith(toc) for name in names):
            continue
        if not os.path.exists(os.path.join(folder, toc)):  # not renamed in meanwhile
            missing.append(later)
    return missing


def orphaned(names: Iterable[str], indexname: str) -> bool:
    """Whether ``names`` (a directory without a table of contents) hold a commit's files."""
    segment = re.compile(rf"{re.escape(indexname)}_[0-9a-z]+\.seg\Z")
    return any(segment.match(name) or _COMMIT_FILE.match(name) for name in names)


# -- writing a commit -------------------------------------------------------------------


def segment_files(names: Iterable[str], segment: Any) -> list[str]:
    """The files of ``segment`` among ``names`` (its id, random, is their prefix)."""
    prefix = f"{segment.segment_id()}."
    return [name for name in names if name.startswith(prefix)]


def let_go(error: BaseException | None) -> None:
    """Clear the locals of the finished frames ``error`` passed through, so that the files
    they opened close now rather than when the error is collected: cleaning up after
    "too many open files" needs a descriptor to list the directory with. Only on errors."""
    if error is not None:
        traceback.clear_frames(error.__traceback__)
        gc.collect()  # and files held in reference cycles (a failed writer's, under Whoosh 2.7.4)


def delete_segment(storage: Any, segment: Any) -> None:
    """Delete the files of a segment that is in no commit (a failed or empty build's); a file
    that a kept commit lists is never deleted, whatever segment claims it."""
    names = storage.list()
    kept = committed_files(storage.folder, names)
    for name in segment_files(names, segment):
        if name not in kept:
            delete_quietly(storage, name)
    if hasattr(storage, "discard_temporaries"):  # and what writing it left in its temporaries
        storage.discard_temporaries()


_TEMPORARY = re.compile(r"\.searchlib-tmp-[0-9a-f]{12}\Z")  # storage.temp_storage's directories


def discard_uncommitted(folder: str) -> None:
    """Delete the segment files and writers' temporary directories in ``folder`` that no
    kept commit lists: what builders stopped midway left (a worker killed when another
    failed; one that ran out of descriptors before it could clean up). Only for the holder
    of the write lock: no other builder can be at work."""
    names = os.listdir(folder)
    kept: set[str] = set()
    indexnames = {m["index"] for m in map(_COMMIT_FILE.match, names) if m}
    for indexname in indexnames:
        for generation in set(generations(names, indexname)) | set(generations(names, indexname, "sums")):
            files = files_of(folder, names, indexname, generation)
            if files is None:
                return  # a commit's files are unknown (its table of contents unreadable): keep all
            kept |= files
    # only an index's own segment files (<index>_<16-character segment id>.…): a user's
    # notes_2024.txt in the directory is no segment of it
    built = [re.compile(rf"{re.escape(indexname)}_[0-9a-z]{{16}}\.") for indexname in indexnames]
    for name in names:
        path = os.path.join(folder, name)
        if any(pattern.match(name) for pattern in built) and name not in kept:
            with contextlib.suppress(OSError):
                os.unlink(path)
        elif _TEMPORARY.match(name) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)


def committed_files(folder: str, names: Iterable[str]) -> set[str]:
    """The files the commits kept in ``folder`` (the latest two of each index) list."""
    names = list(names)
    listed: set[str] = set()
    for indexname in {m["index"] for m in map(_COMMIT_FILE.match, names) if m}:
        for generation in generations(names, indexname, "sums")[-2:]:
            manifest = read_manifest(folder, indexname, generation)
            if manifest is not None:
                listed.update(manifest.files)
    return listed


def commit_toc(writer: Any, segments: list[Any]) -> None:
    """Commit ``segments`` as ``writer``'s generation: what Whoosh's ``_commit_toc`` does,
    with a manifest written before the table of contents, and only listed files deleted.
    Segment files are never rewritten, so sums already recorded are carried over."""
    storage, indexname, generation = writer.storage, writer.indexname, writer.generation
    names = storage.list()
    _discard_interrupted(storage, names, indexname, generation)
    for segment in segments:  # what Whoosh merged, or an earlier release wrote, has no arrays yet
        if arrays.file_name(segment) not in names:
            arrays.write_for(storage, writer.schema, segment)
            names.append(arrays.file_name(segment))
    previous = read_manifest(storage.folder, indexname, generation - 1)
    known = previous.files if previous else {}
    files = {}
    for segment in segments:
        for name in segment_files(names, segment):
            files[name] = known.get(name) or sum_file(os.path.join(storage.folder, name))
    documents = sum(segment.doc_count() for segment in segments)
    write_toc(storage, indexname, TOC(writer.schema, segments, generation), files, documents)
    own = writer.newsegment.segment_id()
    if all(segment.segment_id() != own for segment in segments):  # its files were made at start
        delete_segment(storage, writer.newsegment)
    clean(storage, indexname, generation)


def write_toc(storage: Any, indexname: str, toc: TOC, files: dict[str, FileSum], documents: int) -> None:
    """Write ``toc`` the way Whoosh does (a temporary file renamed into place), with its
    manifest, listing ``files`` and the table of contents itself, written just before the
    rename: once the table of contents is there, so are its checksums."""

    class Sealing:
        def create_file(self, name: str, *args: Any, **kwargs: Any) -> Any:
            return storage.create_file(name, *args, **kwargs)

        def rename_file(self, temporary: str, final: str, safe: bool = False) -> None:
            all_files = {**files, final: sum_file(os.path.join(storage.folder, temporary))}
            manifest = Manifest(toc.generation, documents, all_files)
            sums = manifest_name(indexname, toc.generation)
            staged = f"{sums}.{os.urandom(6).hex()}"
            with storage.create_file(staged) as stream:
                stream.write(manifest.to_bytes())
            # no directory sync of its own: the table of contents' rename syncs it first
            os.replace(os.path.join(storage.folder, staged), os.path.join(storage.folder, sums))
            storage.rename_file(temporary, final, safe)

    toc.write(Sealing(), indexname)


def files_of(folder: str, names: list[str], indexname: str, generation: int) -> set[str] | None:
    """The files of commit ``generation`` (its TOC and manifest included), None if unknown."""
    manifest = read_manifest(folder, indexname, generation)
    if manifest is not None:
        return set(manifest.files) | {manifest_name(indexname, generation)}
    if toc_name(indexname, generation) not in names:
        return set()
    try:  # a commit of searchlib before 0.3: its segments are in its table of contents
        from whoosh.filedb.filestore import FileStorage

        toc = TOC.read(FileStorage(folder), indexname, generation)
    except Exception:
        return None
    return {toc_name(indexname, generation)}.union(*(segment_files(names, s) for s in toc.segments))


def clean(storage: Any, indexname: str, generation: int) -> None:
    """Delete the files of commits before ``generation - 1`` that neither it nor
    ``generation`` uses, as their manifests list them. The previous commit stays: the
    one ``searchlib check --repair`` rolls back to."""
    folder = storage.folder
    names = storage.list()
    keep: set[str] = set()
    for kept in (generation, generation - 1):
        files = files_of(folder, names, indexname, kept)
        if files is None:
            return  # a kept commit's files are unknown: delete nothing
        keep |= files
    old = set(generations(names, indexname)) | set(generations(names, indexname, "sums"))
    for stale in sorted(g for g in old if g < generation - 1):
        try:
            files = files_of(folder, names, indexname, stale)
        except IndexCorruptError:
            continue
        if files is None:
            continue
        toc = toc_name(indexname, stale)
        sums = manifest_name(indexname, stale)
        # the table of contents first (the commit is gone), the manifest last (a crash in
        # between leaves it to list what the next cleaning deletes)
        for name in [toc, *sorted(files - {toc, sums} - keep), sums]:
            if name in files and name not in keep:
                delete_quietly(storage, name)


def _discard_interrupted(storage: Any, names: list[str], indexname: str, generation: int) -> None:
    """Delete what a commit of ``generation`` left when it was interrupted before its
    table of contents was renamed into place: the files its manifest lists that the
    previous commit does not use, the temporary table of contents, the manifest."""
    folder = storage.folder
    try:
        interrupted = read_manifest(folder, indexname, generation)
        keep = files_of(folder, names, indexname, generation - 1)
    except IndexCorruptError:
        return
    if interrupted is None or keep is None:
        return
    toc = toc_name(indexname, generation)
    for name in sorted(set(interrupted.files) - keep - {toc}):
        delete_quietly(storage, name)
    for name in names:
        if name.startswith(f"{toc}."):
            delete_quietly(storage, name)
    delete_quietly(storage, manifest_name(indexname, generation))


def delete_quietly(storage: Any, name: str) -> None:
    """Delete ``name`` if it is there and can go: a file another process holds open (on some
    systems) is left to the next cleaning."""
    with contextlib.suppress(OSError):
        storage.delete_file(name)


def forget_verified() -> None:
    """Verify every file again at its next opening (the benchmarks measure a first open)."""
    _VERIFIED.clear()
    _MANIFESTS.clear()
