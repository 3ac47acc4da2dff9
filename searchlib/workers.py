"""Building segments in this process or in worker processes, for ``Index.add(jobs=N)``.

Each worker keeps one :class:`~searchlib.building.SegmentBuilder` for the whole call and
files the chunks of documents this process sends it, so N workers make N segments however
large the input. Analysis, language identification and name keys all happen in the
workers; this process only reads documents, routes chunks and keeps the ledger.

Chunks hold documents of one language each (:func:`~searchlib.building.chunks`), and a
:class:`Router` keeps each language with one worker while that worker keeps up: a worker
that files all of a language analyzes each of its word forms once and writes each of its
terms once, where workers sharing every language each do both. On XQuAD (12 languages, 4
copies, 2 jobs) that repeated work was a third of each worker's time. An idle worker
takes chunks of any language, so a stream of one language keeps every worker busy too.

On Linux workers are forked, sharing the dictionaries this process has loaded (elsewhere
they are spawned). A forked worker first closes its copy of the index's write-lock file,
so the lock dies with the process that took it; a worker whose parent is gone exits
within a second, giving up its segment.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from itertools import count, islice
from pathlib import Path

from whoosh.codec.base import Segment

from searchlib.building import Chunk, Ledger, SegmentBuilder, chunks
from searchlib.documents import Document
from searchlib.errors import SearchlibError

POLL_S = 0.5  # how often a worker checks its parent, and the parent its workers
DEPTH = 2  # chunks sent to a worker and not yet filed: the one it files and the next
READY_CHUNKS = 8  # chunks read ahead, among which each worker looks for its languages


def build(path: Path, documents: Iterable[Document], jobs: int, memory_mb: int, ledger: Ledger):
    """New segments holding ``documents``, by builder; what went where is in ``ledger``."""
    if jobs == 1:
        return _build_here(path, documents, memory_mb, ledger)
    return _Workers(path, jobs, memory_mb, ledger).build(documents)


def _build_here(path: Path, documents: Iterable[Document], memory_mb: int, ledger: Ledger):
    with SegmentBuilder(path, memory_mb) as builder:
        for chunk in chunks(documents):
            ledger.record(chunk.positions, 0, builder.add(chunk.documents))
        return {0: builder.finish()}


def _serve(number: int, path: str, memory_mb: int, tasks, results) -> None:
    """A worker's life: build one segment from the chunks it takes, then hand it over."""
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    _close_lock_files(Path(path))
    try:
        with SegmentBuilder(path, memory_mb) as builder:
            while (task := tasks.get()) is not None:
                order, chunk = task
                results.put(("filed", number, (order, builder.add(chunk))))
            results.put(("segment", number, builder.finish()))
    except BaseException as error:
        results.put(("error", number, error))


def _exit_when_orphaned(parent: int) -> None:
    """End this worker soon after its parent dies: nobody will commit its segment.

    It cannot wait for the queues to say so: a parent killed while sending a chunk leaves
    half a message that a read would wait on forever. The segment's files are left to the
    next commit, which deletes files no commit refers to.
    """
    while os.getppid() == parent:
        time.sleep(POLL_S)
    os._exit(1)


def _close_lock_files(path: Path) -> None:
    """Close this process's inherited descriptors of ``path``'s lock files.

    Closing a copy leaves the parent's lock in place (an flock lives while any copy is
    open), and without a copy here the lock goes when the parent goes, even if this
    worker lingers.
    """
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return
    for fd in fds.iterdir():
        with contextlib.suppress(OSError, ValueError):
            target = Path(os.readlink(fd))
            if target.parent == path.resolve() and target.name.endswith("_WRITELOCK"):
                os.close(int(fd.name))


class Router:
    """Which worker files which chunk, keeping each language with one worker if it can.

    A worker with room (fewer than DEPTH chunks in flight) takes the first ready chunk of
    its own languages or of a language no worker has had yet, which becomes its own. An
    idle worker with none of those takes the first ready chunk of any language rather
    than wait. Once the input has run out, only idle workers take chunks: a chunk queued
    behind a busy worker could leave another idle at the end.
    """

    def __init__(self, jobs: int) -> None:
        self.in_flight = [0] * jobs  # chunks sent to each worker and not yet filed
        self._owners: dict[str, int] = {}

    def assign(self, ready: list[Chunk], last: bool = False) -> Iterator[tuple[int, Chunk]]:
        """Take a chunk out of ``ready`` for each worker with room, as ``(worker, chunk)``;
        ``last``: no chunks will follow those in ``ready``."""
        depth = 1 if last else DEPTH
        for number, in_flight in enumerate(self.in_flight):
            place = self._pick(number, ready) if in_flight < depth else None
            if place is not None:
                self.in_flight[number] += 1
                yield number, ready.pop(place)

    def filed(self, number: int) -> None:
        self.in_flight[number] -= 1

    def _pick(self, number: int, ready: list[Chunk]) -> int | None:
        for place, chunk in enumerate(ready):
            if self._owners.setdefault(chunk.key, number) == number:
                return place
        return 0 if ready and self.in_flight[number] == 0 else None


class _Workers:
    def __init__(self, path: Path, jobs: int, memory_mb: int, ledger: Ledger) -> None:
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        self._tasks = [context.Queue() for _ in range(jobs)]  # each holds at most DEPTH chunks
        self._results = context.Queue()
        self._ledger = ledger
        self._segments: dict[int, Segment | None] = {}
        self._router = Router(jobs)
        self._positions: dict[int, list[int]] = {}  # chunk number → its documents' input positions
        self._processes = [
            context.Process(
                target=_serve,
                args=(number, str(path), max(1, memory_mb // jobs), self._tasks[number], self._results),
                daemon=True,
            )
            for number in range(jobs)
        ]

    def build(self, documents: Iterable[Document]) -> dict[int, Segment | None]:
        for process in self._processes:
            process.start()
        try:
            self._send(chunks(documents))
            for tasks in self._tasks:
                tasks.put(None)
            while len(self._segments) < len(self._processes):
                self._take(block=True)
            return self._segments
        except BaseException:
            for process in self._processes:
                process.terminate()
            for tasks in self._tasks:
                # Chunks still queued have no reader now: do not wait at exit to send them.
                tasks.cancel_join_thread()
            raise
        finally:
            for process in self._processes:
                process.join()

    def _send(self, pending: Iterator[Chunk]) -> None:
        """Send every chunk, reading READY_CHUNKS ahead to find each worker its own."""
        ready: list[Chunk] = []
        numbers = count()
        last = False
        while True:
            ready.extend(islice(pending, READY_CHUNKS - len(ready)))
            last = last or len(ready) < READY_CHUNKS  # the input ran out
            if not ready:
                return
            sent = False
            for number, chunk in self._router.assign(ready, last):
                order = next(numbers)
                self._positions[order] = chunk.positions
                self._tasks[number].put((order, chunk.documents))
                sent = True
            if not sent:
                self._take(block=True)
            while self._take(block=False):
                pass

    def _take(self, block: bool) -> bool:
        """Handle one message from the workers; False if there was none."""
        try:
            kind, number, payload = self._results.get(timeout=POLL_S) if block else self._results.get_nowait()
        except queue.Empty:
            if block:
                self._check_alive()
            return False
        if kind == "error":
            raise payload
        if kind == "segment":
            self._segments[number] = payload
        else:
            order, filed = payload
            self._router.filed(number)
            self._ledger.record(self._positions.pop(order), number, filed)
        return True

    def _check_alive(self) -> None:
        for number, process in enumerate(self._processes):
            if number not in self._segments and process.exitcode is not None:
                while self._take(block=False):  # it may have sent its segment, or why it failed
                    pass
                if number not in self._segments:
                    raise SearchlibError(
                        f"indexing worker {number} died (exit code {process.exitcode}); "
                        "the index is unchanged"
                    )
