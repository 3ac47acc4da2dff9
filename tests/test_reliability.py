"""Damage done for real: killed writers, two writers at once, readers during commits."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from conftest import SEEDS, searchlib_command

import searchlib

WRITER = """
import sys, searchlib
index = searchlib.Index.open(sys.argv[1])
docs = [searchlib.Document(id=f"bulk-{i}", title=f"Bulk {i}", body=f"bulk document number {i} " * 40)
        for i in range(int(sys.argv[2]))]
print("writing", flush=True)
index.add(docs, jobs=int(sys.argv[3]) if len(sys.argv) > 3 else 1)
print("committed", flush=True)
"""


BATCH = 1500


def seeded_index(path: Path) -> None:
    with searchlib.Index.create(path) as index:
        index.add(d for d in searchlib.loading.load_paths([SEEDS]) if isinstance(d, searchlib.Document))


# The writer takes ~4.5 s here: killed before, while adding, around the commit, and after it.
@pytest.mark.parametrize("kill_after", [0.3, 1.2, 2.0, 2.4, None])  # None: once it has committed
def test_sigkill_while_indexing_leaves_the_previous_or_the_new_commit(
    tmp_path: Path, kill_after: float | None
) -> None:
    index_path = tmp_path / "ix"
    seeded_index(index_path)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(index_path), str(BATCH)],
        stdout=subprocess.PIPE,
        text=True,
    )
    if kill_after is None:
        assert writer.stdout.readline().strip() == "writing"
        assert writer.stdout.readline().strip() == "committed"
    else:
        time.sleep(kill_after)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    with searchlib.Index.open(index_path) as index:
        count = len(index)
        assert count in (5, 5 + BATCH)  # never a part of the batch
        assert index.search("АСЕАН")[0].id == "000_a56dd54d2768551e.txt"
        if count == 5 + BATCH:
            assert index.search(f"bulk document number {BATCH - 1}")[0].id.startswith("bulk-")
        # A later writer gets the lock (Whoosh's lock dies with its process) and commits.
        index.lock_timeout = 5
        index.add([searchlib.Document(id="after", title="After the crash", body="recovered volcano")])
        assert [h.id for h in index.search("volcano")] == ["after"]


def test_a_killed_parallel_writer_leaves_no_lock_and_no_workers_behind(tmp_path: Path) -> None:
    index_path = tmp_path / "ix"
    seeded_index(index_path)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(index_path), str(BATCH * 4), "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "writing"
    parent = psutil.Process(writer.pid)
    deadline = time.monotonic() + 30
    while len(parent.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = parent.children()
    assert len(workers) == 2
    time.sleep(1.0)  # the workers are analyzing and writing their segments
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    started = time.monotonic()
    with searchlib.Index.open(index_path) as index:
        assert len(index) == 5
        index.lock_timeout = 30  # waits if a worker held the lock; none does
        index.add([searchlib.Document(id="after", title="After the crash", body="recovered volcano")])
        assert [h.id for h in index.search("volcano")] == ["after"] and len(index) == 6
    assert time.monotonic() - started < 10
    _, alive = psutil.wait_procs(workers, timeout=10)  # orphaned workers stop on their own
    assert alive == []


def test_a_killed_worker_fails_the_build_clearly_and_changes_nothing(tmp_path: Path) -> None:
    index_path = tmp_path / "ix"
    seeded_index(index_path)
    corpus = tmp_path / "corpus.jsonl"
    with corpus.open("w", encoding="utf-8") as lines:
        for i in range(6000):
            lines.write(f'{{"id": "n{i}", "title": "Note {i}", "body": "{"glacier melts " * 40}{i}"}}\n')
    indexer = subprocess.Popen(
        searchlib_command("index", str(corpus), "--index", str(index_path), "--jobs", "2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    parent = psutil.Process(indexer.pid)
    deadline = time.monotonic() + 30
    while len(parent.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    parent.children()[0].send_signal(signal.SIGKILL)
    _, stderr = indexer.communicate(timeout=60)
    assert indexer.returncode == 2
    assert "indexing worker" in stderr and "died" in stderr and "Traceback" not in stderr
    with searchlib.Index.open(index_path) as index:
        assert len(index) == 5


def test_a_second_writer_waits_then_fails_clearly(tmp_path: Path) -> None:
    index_path = tmp_path / "ix"
    seeded_index(index_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, searchlib; ix = searchlib.Index.open(sys.argv[1]); "
            "w = ix._whoosh.writer(); print('locked', flush=True); time.sleep(30)",
            str(index_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        corpus = tmp_path / "new"
        corpus.mkdir()
        (corpus / "doc.txt").write_text("Title\nbody", encoding="utf-8")
        started = time.monotonic()
        out = subprocess.run(
            searchlib_command("index", str(corpus), "--index", str(index_path), "--lock-timeout", "1"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        waited = time.monotonic() - started
        assert out.returncode == 2
        assert "another process is writing" in out.stderr and "Traceback" not in out.stderr
        assert waited >= 1.0
    finally:
        holder.kill()
        holder.wait()
    with searchlib.Index.open(index_path) as index:
        assert len(index) == 5


@pytest.mark.parametrize("shared", [False, True], ids=["index per thread", "one shared index"])
def test_readers_see_whole_commits_while_a_writer_commits(tmp_path: Path, shared: bool) -> None:
    index_path = tmp_path / "ix"
    seeded_index(index_path)
    errors: list[BaseException] = []
    counts: set[int] = set()
    stop = threading.Event()
    one_index = searchlib.Index.open(index_path)

    def read() -> None:
        with contextlib.nullcontext(one_index) if shared else searchlib.Index.open(index_path) as reader:
            while not stop.is_set():
                try:
                    counts.add(len(reader))
                    assert reader.search("АСЕАН")[0].id == "000_a56dd54d2768551e.txt"
                    reader.search("batch document")
                except BaseException as error:  # any failure is the finding
                    errors.append(error)
                    return

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    with searchlib.Index.open(index_path) as writer:
        for batch in range(5):
            writer.add(
                searchlib.Document(id=f"b{batch}-{i}", title="Batch", body=f"batch document {batch} {i}")
                for i in range(100)
            )
    stop.set()
    for thread in threads:
        thread.join()
    one_index.close()
    assert not errors, errors
    assert counts <= {5 + 100 * n for n in range(6)}


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_commits_are_fsynced(tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    code = (
        "import searchlib, sys; ix = searchlib.Index.create(sys.argv[1]); "
        "ix.add([searchlib.Document(id='a', title='t', body='hello world')])"
    )
    subprocess.run(
        [
            "strace",
            "-f",
            "-e",
            "trace=fsync,rename,openat",
            "-o",
            str(trace),
            sys.executable,
            "-c",
            code,
            str(tmp_path / "ix"),
        ],
        check=True,
        capture_output=True,
    )
    lines = trace.read_text().splitlines()
    renames = [i for i, line in enumerate(lines) if "rename(" in line and ".toc" in line]
    fsyncs = [i for i, line in enumerate(lines) if "fsync(" in line]
    assert renames, "no table of contents was renamed into place"
    last = renames[-1]
    assert any(i < last for i in fsyncs) and any(i > last for i in fsyncs)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_read_only_index_directory_gives_a_clear_error(tmp_path: Path) -> None:
    index_path = tmp_path / "ix"
    seeded_index(index_path)
    index_path.chmod(0o555)
    try:
        with searchlib.Index.open(index_path) as index, pytest.raises((searchlib.SearchlibError, OSError)):
            index.add([searchlib.Document(id="x", title="t", body="b")])
        with searchlib.Index.open(index_path) as index:
            assert len(index) == 5
    finally:
        index_path.chmod(0o755)


def test_a_write_failure_during_commit_is_a_clear_error_and_keeps_the_old_commit(tmp_path: Path) -> None:
    """A full disk, simulated for one process with a file-size limit (works as root too)."""
    index_path = tmp_path / "ix"
    seeded_index(index_path)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(40):
        (corpus / f"doc{n}.txt").write_text(
            f"Document {n}\n" + f"volcano eruption number {n} " * 2000, encoding="utf-8"
        )
    code = (
        "import resource, signal, sys, searchlib.cli; "
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000)); "
        "sys.exit(searchlib.cli.main(sys.argv[1:]))"
    )
    out = subprocess.run(
        # one process: its segment outgrows the limit (two workers' would each stay under it)
        [sys.executable, "-c", code, "index", str(corpus), "--index", str(index_path), "--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr
    assert "cannot write the index" in out.stderr and "Traceback" not in out.stderr
    with searchlib.Index.open(index_path) as index:
        assert len(index) == 5
        assert index.search("volcano") == []
        assert index.search("АСЕАН")[0].id == "000_a56dd54d2768551e.txt"


@pytest.fixture
def small_disk(tmpfs) -> Path:
    """A real 3 MB file system, for a full disk; root only."""
    return tmpfs("3m")


def test_a_full_disk_is_a_clear_error_leaves_no_partial_files_and_the_next_commit_works(
    small_disk: Path, tmp_path: Path
) -> None:
    index_path = small_disk / "ix"
    seeded_index(index_path)
    before = sorted(p.name for p in index_path.iterdir())
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(40):
        words = " ".join(f"w{n}x{i}" for i in range(4000))  # distinct terms: postings and lexicon grow
        (corpus / f"doc{n}.txt").write_text(f"Document {n}\n{words}", encoding="utf-8")
    out = subprocess.run(
        searchlib_command("index", str(corpus), "--index", str(index_path)), capture_output=True, text=True
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "cannot write the index" in out.stderr and "Traceback" not in out.stderr
    assert sorted(p.name for p in index_path.iterdir()) == before  # nothing half-written stays
    with searchlib.Index.open(index_path) as index:
        assert len(index) == 5
        index.add([searchlib.Document(id="small", title="Small", body="a small note", lang="en")])
        assert [h.id for h in index.search("small note")] == ["small"]


def test_a_program_that_seeds_random_loses_no_committed_segment(tmp_path: Path) -> None:
    """Whoosh named a new segment from ``random``: a program seeding it before each add
    (hypothesis does, per example) made a build's segment take a committed one's name, and
    an unchanged add, giving its segment up, deleted the committed files."""
    import random

    from searchlib import checking

    with searchlib.Index.create(tmp_path / "index") as index:
        for number in range(3):
            document = searchlib.Document(str(number), f"Ferry {number}", "a ferry to Kiel", lang="en")
            random.seed(7)
            index.add([document])
            random.seed(7)
            assert index.add([document]).unchanged == 1  # its build's segment is given up
        assert len(index) == 3 and {h.id for h in index.search("ferry")} == {"0", "1", "2"}
    assert checking.check(tmp_path / "index").healthy
