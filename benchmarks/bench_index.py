"""Indexing speed, memory, size, open time and query latency, against baselines in the same run.

Corpora: the XQuAD documents (2,880 in 12 languages, 3.5 MB) copied 1x, 4x, 16x with
distinct ids. Systems: searchlib (one process, and ``--jobs 2``), Whoosh with its
StandardAnalyzer in one field, Tantivy with its default tokenizer (one thread). Each
build runs in a fresh process, so peak memory is its own, with the engine imported before
the clock starts (start-up is not indexing; for searchlib it is ~0.3 s). Repeats take
turns between systems; figures are medians of ``--repeats``; ratios are to the Whoosh
baseline.

    python -m benchmarks.bench_index [--scales 1,4,16] [--repeats 3] [--queries 500]
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from benchmarks.quality import documents
from benchmarks.systems import plain_words

SYSTEMS = ("searchlib", "searchlib --jobs 2", "Whoosh StandardAnalyzer", "Tantivy")
# Each system's engine is imported before its clock starts: Python start-up is not indexing.
ENGINES = {"searchlib": "searchlib", "Whoosh StandardAnalyzer": "whoosh.index", "Tantivy": "tantivy"}


def corpus(data: Path, scale: int) -> list:
    return list(stream(documents(read_jsonl(data / "corpus.jsonl")), scale))


def stream(base: list, scale: int) -> Iterator:
    """``scale`` copies of ``base`` with distinct ids, made one at a time: a build's peak
    memory is then its own, not the corpus held by the benchmark."""
    for n in range(scale):
        for d in base:
            yield type(d)(id=f"{d.id}-c{n}", title=d.title, body=d.body, lang=d.lang)


def build(system: str, make_docs: Callable[[], Iterator], path: Path) -> dict:
    """Index ``make_docs()`` into ``path``; return seconds and, for searchlib, a re-run's seconds."""
    started = time.perf_counter()
    figures: dict = {}
    if system.startswith("searchlib"):
        import searchlib

        jobs = 2 if "--jobs" in system else 1
        with searchlib.Index.create(path) as index:
            index.add(make_docs(), jobs=jobs)
            figures["seconds"] = time.perf_counter() - started
            again = time.perf_counter()
            result = index.add(make_docs())
            figures["rerun_seconds"] = time.perf_counter() - again
            figures["rerun_unchanged"] = result.unchanged
    elif system == "Whoosh StandardAnalyzer":
        from whoosh import index
        from whoosh.analysis import StandardAnalyzer
        from whoosh.fields import ID, TEXT, Schema

        schema = Schema(
            id=ID(stored=True, unique=True), text=TEXT(analyzer=StandardAnalyzer(expression=r"\w+(\.?\w+)*"))
        )
        path.mkdir(parents=True)
        writer = index.create_in(str(path), schema).writer(limitmb=256)
        for d in make_docs():
            writer.add_document(id=d.id, text=f"{d.title}\n{d.body}")
        writer.commit()
        figures["seconds"] = time.perf_counter() - started
    else:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("text")
        path.mkdir(parents=True)
        ix = tantivy.Index(builder.build(), path=str(path))
        writer = ix.writer(heap_size=200_000_000, num_threads=1)
        for d in make_docs():
            writer.add_document(tantivy.Document(id=d.id, text=f"{d.title}\n{d.body}"))
        writer.commit()
        writer.wait_merging_threads()
        figures["seconds"] = time.perf_counter() - started
    return figures


def search_all(system: str, path: Path, questions: list[str]) -> tuple[float, list[float]]:
    """Milliseconds to open the index and answer the first question, then each question's."""
    started = time.perf_counter()
    if system.startswith("searchlib"):
        import searchlib

        index = searchlib.Index.open(path)

        def run(text: str) -> None:
            index.search(text, limit=10, highlight=False)
    elif system == "Whoosh StandardAnalyzer":
        from whoosh import index as whoosh_index
        from whoosh.qparser import OrGroup, QueryParser

        ix = whoosh_index.open_dir(str(path))
        searcher = ix.searcher()
        parser = QueryParser("text", ix.schema, group=OrGroup)

        def run(text: str) -> None:
            [hit["id"] for hit in searcher.search(parser.parse(plain_words(text)), limit=10)]
    else:
        import tantivy

        ix = tantivy.Index.open(str(path))
        searcher = ix.searcher()

        def run(text: str) -> None:
            query, _ = ix.parse_query_lenient(plain_words(text), ["text"])
            [searcher.doc(a)["id"] for _, a in searcher.search(query, 10).hits]

    run(questions[0])
    open_ms = (time.perf_counter() - started) * 1000
    latencies = []
    for text in questions:
        t = time.perf_counter()
        run(text)
        latencies.append((time.perf_counter() - t) * 1000)
    return open_ms, latencies


def worker(system: str, scale: int, data: Path, n_queries: int) -> dict:
    base = documents(read_jsonl(data / "corpus.jsonl"))
    megabytes = scale * sum(len(f"{d.title}\n{d.body}".encode()) for d in base) / 1e6
    path = Path(tempfile.mkdtemp(prefix="bench-index-")) / "ix"
    importlib.import_module(ENGINES[system.split(" --")[0]])
    figures = build(system, lambda: stream(base, scale), path)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    questions = [q["text"] for q in read_jsonl(data / "queries.jsonl")]
    questions = questions[:: max(1, len(questions) // n_queries)][:n_queries]
    open_ms, latencies = search_all(system, path, questions)
    latencies.sort()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    shutil.rmtree(path.parent, ignore_errors=True)
    return {
        **figures,
        "documents": scale * len(base),
        "megabytes": megabytes,
        "docs_per_s": scale * len(base) / figures["seconds"],
        "mb_per_s": megabytes / figures["seconds"],
        "peak_rss_mb": (own + children) / 1024,
        "index_mb": size / 1e6,
        "open_first_query_ms": open_ms,
        "p50_ms": latencies[len(latencies) // 2],
        "p95_ms": latencies[int(len(latencies) * 0.95)],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,4,16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", nargs=2, metavar=("SYSTEM", "SCALE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.data, args.queries)))
        return

    results: dict[str, dict[str, dict]] = {}
    systems = args.systems.split(",")
    for scale in (int(s) for s in args.scales.split(",")):
        runs: dict[str, list[dict]] = {system: [] for system in systems}
        for _ in range(args.repeats):  # systems take turns, so a slow spell hits them alike
            for system in systems:
                out = subprocess.run(
                    [sys.executable, "-m", "benchmarks.bench_index", "--worker", system, str(scale),
                     "--data", str(args.data), "--queries", str(args.queries)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                runs[system].append(json.loads(out.stdout.splitlines()[-1]))
        for system in systems:
            median = {
                k: statistics.median(r[k] for r in runs[system])
                for k in runs[system][0]
                if isinstance(runs[system][0][k], (int, float))
            }
            results.setdefault(f"{scale}x", {})[system] = median
        print(
            f"\n{scale}x XQuAD ({median['megabytes']:.1f} MB, {int(median['documents'])} documents), "
            f"medians of {args.repeats}"
        )
        print(
            f"{'system':<26}"
            + "".join(
                f"{k:>12}"
                for k in (
                    "MB/s",
                    "peak MB",
                    "index MB",
                    "open+q ms",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "MB/s ratio",
                )
            )
        )
        base = results[f"{scale}x"].get("Whoosh StandardAnalyzer")
        for system, m in results[f"{scale}x"].items():
            ratio = m["mb_per_s"] / base["mb_per_s"] if base else float("nan")
            cells = [
                m["mb_per_s"],
                m["peak_rss_mb"],
                m["index_mb"],
                m["open_first_query_ms"],
                m["p50_ms"],
                m["p95_ms"],
                m["p99_ms"],
                ratio,
            ]
            print(f"{system:<26}" + "".join(f"{c:>12.3f}" for c in cells))
            if "rerun_seconds" in m:
                print(
                    f"{'':<26}re-index unchanged: {m['rerun_seconds']:.2f} s = "
                    f"{m['rerun_seconds'] / m['seconds']:.1%} of the first run"
                )
    write_results("bench_index", {"repeats": args.repeats, "results": results}, args.out)


if __name__ == "__main__":
    main()
