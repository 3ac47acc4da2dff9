"""Searching under load: reader processes query for a while as a writer adds and replaces.

Index: the XQuAD documents. ``--readers`` processes each open the index and run XQuAD
questions in a loop for ``--seconds``; meanwhile this process adds new documents and
replaces existing ones in batches, committing each. Reports queries served, errors (must
be 0), latency percentiles under load, and the writer's commits.

    python -m benchmarks.bench_load [--readers 2] [--seconds 60]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

import searchlib
from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from benchmarks.quality import documents


def reader(path: str, questions: list[str], seconds: float, results: multiprocessing.Queue) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    with searchlib.Index.open(path) as index:
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                index.search(questions[n % len(questions)], limit=10)
            except Exception as error:  # the count of these is the finding
                errors.append(repr(error))
            latencies.append((time.perf_counter() - started) * 1000)
            n += 1
    results.put((latencies, errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    corpus = documents(read_jsonl(args.data / "corpus.jsonl"))
    questions = [q["text"] for q in read_jsonl(args.data / "queries.jsonl")]
    path = Path(tempfile.mkdtemp(prefix="bench-load-")) / "index"
    with searchlib.Index.create(path) as index:
        index.add(corpus)

    results: multiprocessing.Queue = multiprocessing.Queue()
    readers = [
        multiprocessing.Process(
            target=reader, args=(str(path), questions[i :: args.readers], args.seconds, results)
        )
        for i in range(args.readers)
    ]
    for process in readers:
        process.start()
    commits, writer_errors = 0, []
    deadline = time.monotonic() + args.seconds
    with searchlib.Index.open(path) as index:
        round_ = 0
        while time.monotonic() < deadline:
            batch = corpus[(round_ * args.batch) % len(corpus) :][: args.batch]
            changed = [
                searchlib.Document(id=d.id if n % 2 else f"{d.id}-new{round_}", title=d.title,
                                   body=f"{d.body} (revision {round_})", lang=d.lang)
                for n, d in enumerate(batch)
            ]  # fmt: skip
            try:
                index.add(changed)
                commits += 1
            except searchlib.SearchlibError as error:
                writer_errors.append(str(error))
            round_ += 1
    gathered = [results.get() for _ in readers]
    for process in readers:
        process.join()
    latencies = sorted(ms for lat, _ in gathered for ms in lat)
    errors = [e for _, errs in gathered for e in errs]
    figures = {
        "readers": args.readers,
        "seconds": args.seconds,
        "queries": len(latencies),
        "queries_per_s": len(latencies) / args.seconds,
        "errors": len(errors),
        "error_examples": errors[:5],
        "commits": commits,
        "writer_errors": len(writer_errors),
        "p50_ms": latencies[len(latencies) // 2] if latencies else None,
        "p95_ms": latencies[int(len(latencies) * 0.95)] if latencies else None,
        "p99_ms": latencies[int(len(latencies) * 0.99)] if latencies else None,
    }
    print(
        f"{args.readers} readers for {args.seconds:g} s while a writer committed {commits} batches of "
        f"{args.batch}: {len(latencies)} queries ({figures['queries_per_s']:.1f}/s), {len(errors)} errors, "
        f"{len(writer_errors)} writer errors; latency p50 {figures['p50_ms']:.1f} ms, "
        f"p95 {figures['p95_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
    )
    write_results("bench_load", figures, args.out)


if __name__ == "__main__":
    main()
