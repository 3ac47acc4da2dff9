"""Building segments in this process or in worker processes, for ``Index.add(jobs=N)``.

Each worker keeps one :class:`~searchlib.building.SegmentBuilder` for the whole call and
files the chunks of documents this process sends it, so N workers make N segments however
large the input. Analysis and name keys happen in the workers; this process reads
documents, routes chunks and keeps the ledger. Building into an empty index, it also
identifies the language of documents that give none, so that chunks hold one language
each, not one script: XQuAD's six Latin-script languages, split between two workers, had
each analyze and write all six vocabularies (docs/scaling.md has the figures). Into an
index that holds documents, the workers identify them, after skipping those indexed
already and unchanged.

Chunks hold documents of one language each (:func:`~searchlib.building.chunks`), and a
:class:`Router` keeps each language with one worker while that worker keeps up: a worker
that files all of a language analyzes each of its word forms once and writes each of its
terms once, where workers sharing every language each do both. On XQuAD (12 languages, 4
copies, 2 jobs) that repeated work was a third of each worker's time. An idle worker
takes chunks of any language, so a stream of one language keeps every worker busy too.
Once the input has run out, the router cuts what remains into pieces so that the workers
end together, each one's writing of its postings included.

On Linux workers are forked, sharing the dictionaries this process has loaded (elsewhere
they are spawned). A forked worker first closes its copy of the index's write-lock file,
so the lock dies with the process that took it; a worker whose parent is gone exits
within a second, giving up its segment.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs
from whoosh.codec.base import Segment

from searchlib.building import Chunk, Ledger, SegmentBuilder, chars_of, chunks
from searchlib.documents import Document
from searchlib.errors import SearchlibError
from searchlib.storage import open_whoosh

POLL_S = 0.5  # how often a worker checks its parent, and the parent its workers
DEPTH = 2  # chunks sent to a worker and not yet filed: the one it files and the next
READY_CHUNKS = 8  # chunks read ahead, among which each worker looks for its languages
MIN_PIECE_S = 0.02  # the least work, in seconds, the last chunks are cut into: more than a hand-over
DEFAULT_ADD_S = 1e-6  # seconds to file a character, and what it adds to finishing, until
DEFAULT_GROWTH_S = 0.4e-6  # the workers have reported (XQuAD 1x, one process)
AUTO_JOBS_CHARS = 1 << 18  # past this much input, jobs=None starts workers (XQuAD, 2 cores: 0.66 → 0.47 s)
MAX_AUTO_JOBS = 4  # each worker holds its share of the memory setting and its own dictionaries
JOBS_VARIABLE = "SEARCHLIB_JOBS"  # caps jobs=None's workers


def build(path: Path, documents: Iterable[Document], jobs: int | None, memory_mb: int, ledger: Ledger):
    """New segments holding ``documents``, by builder; what went where is in ``ledger``.
    ``jobs=None``: as :func:`automatic` decides."""
    if jobs is None:
        jobs, documents = automatic(documents)
    if jobs == 1:
        return _build_here(path, documents, memory_mb, ledger)
    # Into an empty index, this process identifies languages as it routes: no document there
    # can be unchanged, so none is identified in vain (re-adding XQuAD's 2,880 unchanged
    # documents took 0.8 s identifying them, not 0.2 s).
    identify = open_whoosh(path).doc_count_all() == 0
    return _Workers(path, jobs, memory_mb, ledger).build(documents, identify)


def automatic(documents: Iterable[Document]) -> tuple[int, Iterable[Document]]:
    """How many processes to build ``documents`` in, and the documents again (those read to
    decide, then the rest).

    One for an input under AUTO_JOBS_CHARS characters, where starting workers would cost
    more than they save; past it, one per core this process may run on, up to
    MAX_AUTO_JOBS (XQuAD 1x, 2 cores: 1.6-1.9x one process's throughput). One, too, in a
    process running other threads (a server): forking it could copy a lock another thread
    holds. ``SEARCHLIB_JOBS`` in the environment caps the number (``1``: always this process),
    as ``OMP_NUM_THREADS`` does for numerical libraries: a machine running several indexers,
    or a test suite that already runs a process per core, keeps its cores to itself.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    cap = os.environ.get(JOBS_VARIABLE, "").strip()
    if cap:
        if not cap.isdigit() or int(cap) < 1:
            raise SearchlibError(f"{JOBS_VARIABLE} must be a whole number ≥ 1, not {cap!r}")
        cores = min(cores, int(cap))
    if cores < 2 or threading.active_count() > 1:
        return 1, documents
    pending = iter(documents)
    ahead: list[Document] = []
    chars = 0
    for document in pending:
        ahead.append(document)
        chars += chars_of(document)
        if chars >= AUTO_JOBS_CHARS:
            return min(cores, MAX_AUTO_JOBS), itertools.chain(ahead, pending)
    return 1, ahead


def _build_here(path: Path, documents: Iterable[Document], memory_mb: int, ledger: Ledger):
    with SegmentBuilder(path, memory_mb) as builder:
        for chunk in chunks(documents):
            ledger.record(chunk.positions, 0, builder.add(chunk.documents))
        return {0: builder.finish()}


def _serve(number: int, path: str, memory_mb: int, tasks, results) -> None:
    """A worker's life: build one segment from the chunks it takes, then hand it over.

    Its cyclic garbage collector stays off, as a builder keeps it while it files, until
    the process ends: turned on again at the end of the build, its first collection walked
    every object the build had made (0.06-0.08 s on XQuAD) before the message handing the
    segment over could leave."""
    gc.disable()
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    _close_lock_files(Path(path))
    try:
        with SegmentBuilder(path, memory_mb) as builder:
            while (chunk := tasks.get()) is not None:
                started = time.perf_counter()
                filed = builder.add(*chunk)
                took = time.perf_counter() - started
                results.put(("filed", number, (filed, took, builder.finish_seconds())))
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

    While input comes, a worker with room (fewer than DEPTH chunks in flight) takes the
    first ready chunk of its own languages or of a language no worker has had yet, which
    becomes its own. An idle worker with none of those takes the first ready chunk of any
    language rather than wait.

    Once the input has run out, the aim is that all workers end together, and a worker's
    end includes writing its postings (a fifth to a third of its time, more for a larger
    vocabulary). So only idle workers take chunks, and each takes half of its fair share
    of what remains, as estimated from what the workers report: how long chunks of each
    language took and how long their finish() would take now. The last chunks are cut
    into smaller pieces that way, and a worker whose finish alone would end after the
    others have done everything stops taking chunks (it retires: ``(worker, None)``).
    """

    def __init__(self, jobs: int) -> None:
        self._sent: list[deque[Chunk]] = [deque() for _ in range(jobs)]  # in flight, in order
        self._owners: dict[str, int] = {}
        self._busy_until = [0.0] * jobs  # when each will have filed what it was sent (monotonic)
        self._finish = [0.0] * jobs  # each one's finish_seconds(), as it last reported
        self._rates: dict[str, _Rate] = {}  # by language
        self._overall = _Rate()
        self.retired: set[int] = set()

    @property
    def in_flight(self) -> list[int]:
        return [len(sent) for sent in self._sent]

    def assign(
        self, ready: list[Chunk], last: bool = False, now: float | None = None
    ) -> Iterator[tuple[int, Chunk | None]]:
        """Take a chunk out of ``ready`` for each worker that should have one, as ``(worker,
        chunk)``, or ``(worker, None)`` to retire it; ``last``: no chunks follow ``ready``."""
        now = time.monotonic() if now is None else now
        for number, sent in enumerate(self._sent):
            if number in self.retired or not ready or len(sent) >= (1 if last else DEPTH):
                continue
            if last:
                share = self._share(number, ready, now)
                if share < 0:
                    self.retired.add(number)
                    yield number, None
                    continue
                chunk = self._piece(ready, self._pick_last(number, ready), share)
            else:
                place = self._pick(number, ready)
                if place is None:
                    continue
                chunk = ready.pop(place)
            sent.append(chunk)
            self._busy_until[number] = max(now, self._busy_until[number]) + self._cost(chunk)[0]
            yield number, chunk

    def filed(
        self, number: int, seconds: float = 0.0, finish_seconds: float = 0.0, now: float | None = None
    ) -> Chunk:
        """Worker ``number`` filed its oldest chunk (returned: a worker files its chunks in
        the order sent) in ``seconds``; its finish would take ``finish_seconds`` now."""
        now = time.monotonic() if now is None else now
        chunk = self._sent[number].popleft()
        growth = max(0.0, finish_seconds - self._finish[number])
        for rate in (self._rates.setdefault(chunk.key, _Rate()), self._overall):
            rate.seconds += seconds
            rate.growth += growth
            rate.chars += chunk.chars
        self._finish[number] = finish_seconds
        self._busy_until[number] = now + sum(self._cost(c)[0] for c in self._sent[number])
        return chunk

    def _pick(self, number: int, ready: list[Chunk]) -> int | None:
        for place, chunk in enumerate(ready):
            if self._owners.setdefault(chunk.key, number) == number:
                return place
        return 0 if ready and not self._sent[number] else None

    def _pick_last(self, number: int, ready: list[Chunk]) -> int:
        """Where in ``ready`` idle worker ``number`` finds its next chunk at the end: a new
        language first, whose cost is then learnt while there is time to balance it (Chinese
        costs five times what English does per character), then its own, then any."""
        for place, chunk in enumerate(ready):
            if chunk.key not in self._owners:
                self._owners[chunk.key] = number
                return place
        return next((place for place, c in enumerate(ready) if self._owners[c.key] == number), 0)

    def _share(self, number: int, ready: list[Chunk], now: float) -> float:
        """Seconds of the remaining work that would have idle worker ``number`` end when
        the others do; negative if its finish alone ends after theirs."""
        others = [v for v in range(len(self._sent)) if v != number and v not in self.retired]
        if not others:
            return float("inf")
        ends = sum(
            max(now, self._busy_until[v]) + self._finish[v] + sum(self._cost(c)[1] for c in self._sent[v])
            for v in others
        )
        remaining = sum(sum(self._cost(c)) for c in ready)
        # Ending together: now + F + share = (ends + remaining - share) / k, for k others.
        k = len(others)
        return ((ends + remaining) / k - now - self._finish[number]) * k / (k + 1)

    def _piece(self, ready: list[Chunk], place: int, share: float) -> Chunk:
        """Take out of ``ready`` the chunk at ``place``, or its first documents if it holds
        more than half of ``share`` seconds of work (but no less than MIN_PIECE_S)."""
        chunk = ready[place]
        seconds = sum(self._cost(chunk))
        piece_s = max(share / 2, MIN_PIECE_S)
        if seconds <= piece_s + MIN_PIECE_S:
            return ready.pop(place)
        piece, rest = chunk.split(int(chunk.chars * piece_s / seconds))
        if not rest.documents:  # one large document
            return ready.pop(place)
        ready[place] = rest
        return piece

    def _cost(self, chunk: Chunk) -> tuple[float, float]:
        """Estimated seconds to file ``chunk``, and how much longer its worker's finish gets."""
        for rate in (self._rates.get(chunk.key), self._overall):
            if rate and rate.chars:
                return chunk.chars * rate.seconds / rate.chars, chunk.chars * rate.growth / rate.chars
        return chunk.chars * DEFAULT_ADD_S, chunk.chars * DEFAULT_GROWTH_S


@attrs.define
class _Rate:
    """What filing characters of a language took: seconds, and growth of finish_seconds."""

    seconds: float = 0.0
    growth: float = 0.0
    chars: int = 0


class _Workers:
    def __init__(self, path: Path, jobs: int, memory_mb: int, ledger: Ledger) -> None:
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        self._tasks = [context.Queue() for _ in range(jobs)]  # each holds at most DEPTH chunks
        self._results = context.Queue()
        self._ledger = ledger
        self._segments: dict[int, Segment | None] = {}
        self._router = Router(jobs)
        self._processes = [
            context.Process(
                target=_serve,
                args=(number, str(path), max(1, memory_mb // jobs), self._tasks[number], self._results),
                daemon=True,
            )
            for number in range(jobs)
        ]

    def build(self, documents: Iterable[Document], identify: bool) -> dict[int, Segment | None]:
        for process in self._processes:
            process.start()
        try:
            self._send(chunks(documents, identify))
            for number, tasks in enumerate(self._tasks):
                if number not in self._router.retired:
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
        """Send every chunk, reading up to READY_CHUNKS ahead to find each worker its own.

        Chunks are read one at a time, and each is offered as soon as it is read: making one
        may take time (identifying its documents' languages: 0.3 s for the first eight of
        XQuAD), and the workers start on the first ones meanwhile."""
        ready: list[Chunk] = []
        last = False
        while True:
            if not last and len(ready) < READY_CHUNKS:
                chunk = next(pending, None)
                if chunk is None:  # the input ran out
                    last = True
                else:
                    ready.append(chunk)
            if not ready:
                return
            sent = False
            for number, chunk in self._router.assign(ready, last):
                sent = True
                if chunk is None:  # retired: it writes its segment now
                    self._tasks[number].put(None)
                    continue
                self._tasks[number].put((chunk.documents, chunk.langs))
            if not sent and (last or len(ready) >= READY_CHUNKS):
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
            filed, seconds, finish_seconds = payload
            chunk = self._router.filed(number, seconds, finish_seconds)
            self._ledger.record(chunk.positions, number, filed)
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
