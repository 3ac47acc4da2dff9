"""Indexing on a Dask cluster with 1, 2, 4 workers, against one process, in the same run.

The corpus is the XQuAD documents copied ``--scale`` times (16x: 46,080 documents,
56 MB). The baseline is ``Index.add`` in one process (what ``searchlib index`` runs).
Each Dask configuration is a LocalCluster of worker processes with one thread each,
configured as docs/scaling.md advises, talking TCP on loopback. Every process is first
warmed up by analyzing 1% of the corpus (imports and dictionaries load on first use; a
long-running worker has them). The figures include sending the documents to the workers
and the commit. Then, for ``--check`` questions, the index the most
workers built must rank exactly as the one-process index (ids and scores of the top 10),
and query latency on both is measured: the many-segment index is what searching pays.

    python -m benchmarks.bench_distributed [--scale 16] [--workers 1,2,4] [--check 1000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import searchlib
from benchmarks.bench_index import corpus
from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from searchlib import distributed
from searchlib.building import fields_of

# Both cost analysis about a third of its speed (docs/scaling.md): Dask's sampling
# profiler, and the MALLOC_TRIM_THRESHOLD_ its nanny sets for the worker processes.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.nanny.pre-spawn-environ": {}}


def warm_up(sample: list[searchlib.Document]) -> None:
    """Load every language's analyzer and dictionaries, as a long-running process has."""
    for document in sample:
        fields_of(document)  # warms the analyzers


def one_process(docs: list, path: Path) -> float:
    warm_up(docs[::100])
    started = time.perf_counter()
    with searchlib.Index.create(path) as index:
        index.add(docs)
    return time.perf_counter() - started


def on_dask(docs: list, path: Path, workers: int) -> float:
    import dask
    from distributed import Client, LocalCluster

    with (
        dask.config.set(WORKER_CONFIG),
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(warm_up, docs[::100])
        started = time.perf_counter()
        distributed.build_index(docs, path, client, partitions=workers).close()
        return time.perf_counter() - started


def compare(one: Path, sharded: Path, questions: list[str]) -> dict:
    """Identical rankings, and query latency on each index."""
    latencies: dict[str, list[float]] = {"one process": [], "dask": []}
    identical = 0
    with searchlib.Index.open(one) as a, searchlib.Index.open(sharded) as b:
        a.search(questions[0]), b.search(questions[0])  # open and warm both
        for text in questions:
            rankings = []
            for name, index in (("one process", a), ("dask", b)):
                started = time.perf_counter()
                hits = index.search(text, limit=10, highlight=False)
                latencies[name].append((time.perf_counter() - started) * 1000)
                rankings.append([(h.id, h.score) for h in hits])
            identical += rankings[0] == rankings[1]
        segments = len(b._whoosh._segments())
    return {
        "questions": len(questions),
        "identical_top10": identical,
        "segments": segments,
        "p50_ms": {name: statistics.median(values) for name, values in latencies.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=16)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--check", type=int, default=1000, help="questions compared (0: all 14,280)")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    docs = corpus(args.data, args.scale)
    megabytes = sum(len(f"{d.title}\n{d.body}".encode()) for d in docs) / 1e6
    root = Path(tempfile.mkdtemp(prefix="bench-distributed-"))
    try:
        seconds = {"one process": one_process(docs, root / "one")}
        counts = [int(w) for w in args.workers.split(",")]
        for workers in counts:
            seconds[f"dask {workers} workers"] = on_dask(docs, root / f"dask{workers}", workers)
        questions = [q["text"] for q in read_jsonl(args.data / "queries.jsonl")]
        if args.check:
            questions = questions[:: max(1, len(questions) // args.check)][: args.check]
        check = compare(root / "one", root / f"dask{max(counts)}", questions)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    base = seconds["one process"]
    print(f"\n{args.scale}x XQuAD: {len(docs)} documents, {megabytes:.1f} MB")
    print(f"{'system':<22}{'seconds':>10}{'MB/s':>10}{'ratio':>10}")
    for name, s in seconds.items():
        print(f"{name:<22}{s:>10.1f}{megabytes / s:>10.3f}{base / s:>10.2f}")
    print(
        f"\ndask {max(counts)} workers vs one process: top 10 identical for "
        f"{check['identical_top10']}/{check['questions']} questions; {check['segments']} segments; "
        f"query p50 {check['p50_ms']['dask']:.2f} ms vs {check['p50_ms']['one process']:.2f} ms"
    )
    figures = {
        "scale": args.scale,
        "documents": len(docs),
        "megabytes": megabytes,
        "seconds": seconds,
        "mb_per_s": {name: megabytes / s for name, s in seconds.items()},
        "ratio_to_one_process": {name: base / s for name, s in seconds.items()},
        "check": check,
    }
    write_results("bench_distributed", figures, args.out)


if __name__ == "__main__":
    main()
