"""``searchlib check``: verify every file of an index against its commit's checksums, and
roll back to the last intact commit (``--repair``).

A commit's files are verified as they are first read anyway (:mod:`searchlib.commits`);
checking reads them all, always (no verification is remembered), with the previous
commit's, which the index keeps until the next commit succeeds.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs
from whoosh.index import TOC
from whoosh.reading import SegmentReader

from searchlib import commits
from searchlib.errors import IndexCorruptError, IndexLockedError, IndexNotFoundError, SearchlibError
from searchlib.storage import INDEX_NAME, DurableFileStorage

RETRIES = 3  # checks of an index that commits land on meanwhile
Verified = dict[tuple[str, commits.FileSum], str | None]  # a file and its sums → its problem


@attrs.frozen
class Report:
    """What checking (and repairing) an index found; healthy when ``problems`` is empty."""

    path: Path
    generation: int | None  # the current commit
    documents: int | None  # in it, if known
    problems: list[str]  # each names a file and what it held
    notes: list[str]  # facts that are no damage
    repaired: str | None = None  # what a repair did and lost

    @property
    def healthy(self) -> bool:
        return not self.problems


def check(path: str | os.PathLike[str]) -> Report:
    """Verify the index at ``path``: every file of its current commit, and the previous one's.

    Checking takes no lock: if a commit lands meanwhile (its cleaning may delete files the
    check was reading), a damaged verdict is checked again against the new commit."""
    path = Path(path)
    for _ in range(RETRIES):
        report = _check(path, {})
        if report.healthy or commits.generations(_names(path), INDEX_NAME)[-1:] == [report.generation]:
            break
    return report


def _check(path: Path, verified: Verified) -> Report:
    names = _names(path)
    tocs = commits.generations(names, INDEX_NAME)
    missing = commits.missing_commits(str(path), names, INDEX_NAME, tocs[-1] if tocs else -1)
    if missing:
        lost = commits.toc_name(INDEX_NAME, missing[-1])
        problem = f"{path / lost}: the table of contents of commit {missing[-1]}, the latest, is missing"
        return Report(
            path,
            missing[-1],
            _documents(path, missing[-1]),
            [problem],
            _previous_notes(path, names, tocs, verified),
        )
    if not tocs:
        raise IndexNotFoundError(f"{path}: no searchlib index here (no table of contents)")
    current = tocs[-1]
    problems = commit_problems(path, names, current, verified)
    sealed = (path / commits.manifest_name(INDEX_NAME, current)).exists()
    notes = [] if sealed else [_unsealed(current)]
    previous = _previous_notes(path, names, tocs[:-1], verified)
    return Report(path, current, _documents(path, current), problems, notes + previous)


def repair(path: str | os.PathLike[str]) -> Report:
    """Check the index at ``path`` and, if its current commit is damaged, make the latest
    intact earlier commit the current one, holding the write lock. Raises
    :class:`IndexCorruptError` if there is none to go back to."""
    path = Path(path)
    lock = DurableFileStorage(str(path)).lock(f"{INDEX_NAME}_WRITELOCK")
    try:
        locked = lock.acquire(blocking=False)
    except OSError as error:
        raise SearchlibError(f"{path}: cannot take the write lock ({error.strerror or error})") from None
    if not locked:
        raise IndexLockedError(f"{path}: another process is writing to this index; repair after it is done")
    try:
        verified: Verified = {}  # under the lock nothing changes: each file is read once
        report = _check(path, verified)
        if report.healthy:
            return report
        names = _names(path)
        damaged = report.generation
        intact = [g for g in reversed(commits.generations(names, INDEX_NAME)) if g < damaged]
        target = next((g for g in intact if not commit_problems(path, names, g, verified)), None)
        if target is None:
            raise IndexCorruptError(
                f"{path}: damaged, and no earlier intact commit is kept to roll back to; "
                "index the documents again into a new index"
            )
        _roll_back(path, names, target)
        held = f" (it held {report.documents:,} documents)" if report.documents is not None else ""
        kept = _documents(path, target)
        repaired = (
            f"rolled back from commit {damaged} to commit {target}"
            + (f" ({kept:,} documents)" if kept is not None else "")
            + f"; lost: what commit {damaged} changed{held}"
        )
        return attrs.evolve(report, repaired=repaired)
    finally:
        lock.release()


def commit_problems(
    path: Path, names: list[str], generation: int, verified: Verified | None = None
) -> list[str]:
    """What is wrong with commit ``generation``'s files, in words (nothing: intact).
    ``verified`` remembers files already read: commits share most of their segments."""
    verified = {} if verified is None else verified
    try:
        manifest = commits.read_manifest(str(path), INDEX_NAME, generation)
    except IndexCorruptError as error:
        return [str(error)]
    if manifest is None:
        if commits.generations(names, INDEX_NAME, "sums"):
            toc = path / commits.toc_name(INDEX_NAME, generation)
            return [f"{toc}: commit {generation} has no checksums while others have: no file searchlib wrote"]
        return _read_through(path, generation)
    problems = []
    for name, expected in sorted(manifest.files.items()):
        if (name, expected) not in verified:
            verified[name, expected] = commits.damage(str(path), name, expected)
        if verified[name, expected]:
            problems.append(verified[name, expected])
    return problems


def _read_through(path: Path, generation: int) -> list[str]:
    """Problems found reading all of an unsealed commit (made before searchlib 0.3)."""
    storage = DurableFileStorage(str(path))
    try:
        toc = TOC.read(storage, INDEX_NAME, generation)
        for segment in toc.segments:
            reader = SegmentReader(storage, toc.schema, segment, generation=generation)
            try:
                for _ in reader.all_stored_fields():
                    pass
                for field, text in reader.all_terms():
                    reader.postings(field, text).all_ids()
            finally:
                reader.close()
    except SearchlibError as error:
        return [str(error)]
    except Exception as error:
        return [f"{path}: commit {generation} cannot be read ({type(error).__name__}: {error})"]
    return []


def _roll_back(path: Path, names: list[str], target: int) -> None:
    """Make ``target`` the latest commit: later tables of contents go first, then the files
    only later commits used, then their manifests."""
    storage = DurableFileStorage(str(path))
    keep = commits.files_of(str(path), names, INDEX_NAME, target) or set()
    later = [g for g in commits.generations(names, INDEX_NAME) if g > target]
    later_sums = [g for g in commits.generations(names, INDEX_NAME, "sums") if g > target]
    for generation in sorted(later, reverse=True):
        storage.delete_file(commits.toc_name(INDEX_NAME, generation))
    storage.sync_directory()
    for generation in later_sums:
        try:
            manifest = commits.read_manifest(str(path), INDEX_NAME, generation)
        except IndexCorruptError:
            manifest = None
        for name in sorted(set(manifest.files if manifest else ()) - keep):
            commits.delete_quietly(storage, name)
        commits.delete_quietly(storage, commits.manifest_name(INDEX_NAME, generation))
    storage.sync_directory()


def _previous_notes(path: Path, names: list[str], earlier: list[int], verified: Verified) -> list[str]:
    if not earlier:
        return []
    previous = earlier[-1]
    problems = commit_problems(path, names, previous, verified)
    state = "intact" if not problems else "damaged too"
    return [f"previous commit {previous} kept for rollback: {state}"]


def _documents(path: Path, generation: int) -> int | None:
    try:
        manifest = commits.read_manifest(str(path), INDEX_NAME, generation)
    except IndexCorruptError:
        return None
    return manifest.documents if manifest else None


def _unsealed(generation: int) -> str:
    return (
        f"commit {generation} has no checksums (written before searchlib 0.3): read through "
        "instead; the next commit (e.g. `searchlib optimize`) records them"
    )


def _names(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        raise IndexNotFoundError(f"{path}: no such directory") from None
    except OSError as error:
        raise SearchlibError(f"{path}: cannot list the index directory ({error.strerror or error})") from None
