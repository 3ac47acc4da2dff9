"""Building indexes on a real Dask cluster: a LocalCluster with worker processes over TCP."""

from __future__ import annotations

import multiprocessing
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from conftest import SEEDS, SHARED_DATA, searchlib_command

import searchlib
from benchmarks.common import read_jsonl
from benchmarks.quality import documents as xquad_documents
from benchmarks.quality import xquad_split
from searchlib import distributed

dask_bag = pytest.importorskip("dask.bag")
dask_distributed = pytest.importorskip("distributed")

XQUAD = SHARED_DATA / "xquad"
needs_xquad = pytest.mark.skipif(not XQUAD.is_dir(), reason=f"needs the XQuAD data in {XQUAD}")


@pytest.fixture(scope="module")
def client():
    cluster = dask_distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, protocol="tcp"
    )
    with cluster, dask_distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def xquad_docs() -> list[searchlib.Document]:
    return xquad_documents(read_jsonl(XQUAD / "corpus.jsonl"))


def ranking(index: searchlib.Index, text: str) -> list[tuple[str, float]]:
    return [(hit.id, hit.score) for hit in index.search(text, limit=10, highlight=False)]


def rankings_differ(path: Path, questions: list[str]) -> list[str]:
    """The questions on which the Dask-built and the serially built index rank differently."""
    with searchlib.Index.open(path / "dask") as sharded, searchlib.Index.open(path / "serial") as serial:
        return [text for text in questions if ranking(sharded, text) != ranking(serial, text)]


def test_the_cluster_is_real(client) -> None:
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2 and all(address.startswith("tcp://127.0.0.1") for address in workers)
    pids = set(client.run(lambda: __import__("os").getpid()).values())
    assert len(pids) == 2 and pids.isdisjoint({__import__("os").getpid()})


@needs_xquad
def test_sharded_ranking_equals_one_process_for_benchmark_questions(
    client, xquad_docs, tmp_path: Path
) -> None:
    # A quarter of the documents, every language in it, keeps the suite within its time;
    # benchmarks/bench_distributed.py checks the whole corpus.
    docs = xquad_docs[::4]
    sharded = distributed.build_index(docs, tmp_path / "dask", client, partitions=5)
    serial = searchlib.Index.create(tmp_path / "serial")
    serial.add(docs, jobs=1)
    assert len(sharded._whoosh._segments()) == 5  # one segment per partition, searched together
    questions = [q["text"] for q in read_jsonl(XQUAD / "queries.jsonl") if xquad_split(q["id"]) == "heldout"]
    assert len(questions) > 6000
    # Every 64th question keeps the suite within its time; benchmarks/bench_distributed.py
    # checks every question.
    questions = questions[::64]
    halves = [questions[0::2], questions[1::2]]  # compared in two processes, to halve the wait
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        differing = [text for part in pool.map(rankings_differ, [tmp_path] * 2, halves) for text in part]
    assert differing == []
    assert sharded.language_counts() == serial.language_counts()


def test_a_bag_is_partitioned_on_the_workers(client, tmp_path: Path) -> None:
    seeds = [d for d in searchlib.loading.load_paths([SEEDS]) if isinstance(d, searchlib.Document)]
    bag = dask_bag.from_sequence(seeds, npartitions=3)
    with distributed.build_index(bag, tmp_path / "ix", client) as index:
        assert len(index) == len(seeds)
        hits = index.search("АСЕАН")
        assert hits and "<em>АСЕАН</em>" in hits[0].snippet


def test_last_copy_of_an_id_wins_across_partitions(client, tmp_path: Path) -> None:
    docs = [
        searchlib.Document(id="a", title="", body="volcanoes erupt in Iceland"),
        searchlib.Document(id="b", title="", body="glaciers melt in Norway"),
        searchlib.Document(id="a", title="", body="earthquakes shake Japan"),
    ]
    with searchlib.Index.create(tmp_path / "ix") as index:
        result = distributed.add(index, docs, client, partitions=3)
        assert (result.added, result.duplicates) == (2, 1)
        assert index.search("volcanoes") == [] and [h.id for h in index.search("earthquakes")] == ["a"]
        again = distributed.add(index, docs[1:], client, partitions=2)
        assert (again.added, again.replaced, again.unchanged) == (0, 0, 2)
        changed = distributed.add(index, [searchlib.Document(id="b", title="", body="fjords")], client)
        assert changed.replaced == 1 and [h.id for h in index.search("fjords")] == ["b"]
        assert len(index) == 2


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(searchlib_command(*args), capture_output=True, text=True, timeout=timeout)


def test_cli_indexes_on_a_scheduler(client, tmp_path: Path) -> None:
    address = client.scheduler.address
    run = cli("index", "--index", str(tmp_path / "ix"), str(SEEDS), "--dask", address, "--partitions", "2")
    assert run.returncode == 0, run.stderr
    assert "5 added" in run.stdout
    query = cli("query", "--index", str(tmp_path / "ix"), "АСЕАН")
    assert query.returncode == 0 and "000_a56dd54d2768551e.txt" in query.stdout


def test_cli_names_an_unreachable_scheduler(tmp_path: Path) -> None:
    run = cli(
        "index",
        "--index",
        str(tmp_path / "ix"),
        str(SEEDS),
        "--dask",
        "tcp://127.0.0.1:9",
        "--dask-timeout",
        "2",
    )
    assert run.returncode == 2
    assert "tcp://127.0.0.1:9" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "ix").exists()


def test_a_worker_that_cannot_see_the_index_says_so(client, tmp_path: Path) -> None:
    future = client.submit(distributed.build_partition, str(tmp_path / "elsewhere"), [], 16)
    with pytest.raises(searchlib.SearchlibError, match="shared by the client and all workers"):
        future.result()
