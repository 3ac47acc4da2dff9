"""Building segments in this process or in worker processes, for ``Index.add(jobs=N)``.

Each worker keeps one :class:`~searchlib.building.SegmentBuilder` for the whole call and
takes chunks of documents from a shared queue, so N workers make N segments however
large the input. Analysis, language identification and name keys all happen in the
workers; this process only reads documents and keeps the ledger.

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
from collections.abc import Iterable
from pathlib import Path

from whoosh.codec.base import Segment

from searchlib.building import Ledger, SegmentBuilder, chunks
from searchlib.documents import Document
from searchlib.errors import SearchlibError

POLL_S = 0.5  # how often a worker checks its parent, and the parent its workers


def build(path: Path, documents: Iterable[Document], jobs: int, memory_mb: int, ledger: Ledger):
    """New segments holding ``documents``, by builder; what went where is in ``ledger``."""
    if jobs == 1:
        return _build_here(path, documents, memory_mb, ledger)
    return _Workers(path, jobs, memory_mb, ledger).build(documents)


def _build_here(path: Path, documents: Iterable[Document], memory_mb: int, ledger: Ledger):
    with SegmentBuilder(path, memory_mb) as builder:
        for order, chunk in enumerate(chunks(documents)):
            ledger.record(order, 0, builder.add(chunk))
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


class _Workers:
    def __init__(self, path: Path, jobs: int, memory_mb: int, ledger: Ledger) -> None:
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        self._tasks = context.Queue(maxsize=jobs)  # bounds the chunks in flight
        self._results = context.Queue()
        self._ledger = ledger
        self._segments: dict[int, Segment | None] = {}
        self._processes = [
            context.Process(
                target=_serve,
                args=(number, str(path), max(1, memory_mb // jobs), self._tasks, self._results),
                daemon=True,
            )
            for number in range(jobs)
        ]

    def build(self, documents: Iterable[Document]) -> dict[int, Segment | None]:
        for process in self._processes:
            process.start()
        try:
            for task in enumerate(chunks(documents)):
                self._put(task)
            for _ in self._processes:
                self._put(None)
            while len(self._segments) < len(self._processes):
                self._take(block=True)
            return self._segments
        except BaseException:
            for process in self._processes:
                process.terminate()
            # Chunks still queued have no reader now: do not wait at exit to send them.
            self._tasks.cancel_join_thread()
            raise
        finally:
            for process in self._processes:
                process.join()

    def _put(self, task: tuple[int, list[Document]] | None) -> None:
        while True:
            try:
                self._tasks.put(task, timeout=POLL_S)
                break
            except queue.Full:
                self._check_alive()
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
            self._ledger.record(order, number, filed)
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
