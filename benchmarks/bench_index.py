"""Indexing speed, memory, size, open time and query latency, against baselines in the same run.

Corpora: the XQuAD documents (2,880 in 12 languages, 3.5 MB) copied 1x, 4x, 16x with
distinct ids. Systems: searchlib with each document's language given and with it unknown,
by default (on more than one core, a worker process per core) and in one process
(``--jobs 1``); Whoosh with its StandardAnalyzer in a title and a body field, both stored
(the baseline issue 20 names); Tantivy with its default tokenizer (one thread); bm25s with
PyStemmer per document language (saved to disk); SQLite FTS5 (unicode61, in a database
file). Each build runs in a fresh process, so peak memory is its own, with the engine
imported before the clock starts (start-up is not indexing; for searchlib it is ~0.3 s).
Repeats take turns between systems; figures are medians of ``--repeats``; ratios are to
the Whoosh baseline.

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

import attrs

from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from benchmarks.quality import documents
from benchmarks.systems import plain_words

SYSTEMS = (
    "searchlib",
    "searchlib (lang unknown)",
    "searchlib --jobs 1",
    "searchlib (lang unknown) --jobs 1",
    "Whoosh StandardAnalyzer",
    "Tantivy",
    "bm25s + PyStemmer",
    "SQLite FTS5",
)
# Each system's engine is imported before its clock starts: Python start-up is not indexing.
ENGINES = {
    "searchlib": "searchlib",
    "Whoosh StandardAnalyzer": "whoosh.index",
    "Tantivy": "tantivy",
    "bm25s + PyStemmer": "bm25s",
    "SQLite FTS5": "sqlite3",
}


def engine(system: str) -> str:
    return ENGINES[system.split(" --")[0].split(" (")[0]]


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

        jobs = int(system.split("--jobs ")[1]) if "--jobs" in system else None  # None: the default
        unknown = "lang unknown" in system

        def made() -> Iterator:
            return (attrs.evolve(d, lang=None) for d in make_docs()) if unknown else make_docs()

        with searchlib.Index.create(path) as index:
            index.add(made(), jobs=jobs)
            figures["seconds"] = time.perf_counter() - started
            again = time.perf_counter()
            result = index.add(made(), jobs=jobs)
            figures["rerun_seconds"] = time.perf_counter() - again
            figures["rerun_unchanged"] = result.unchanged
    elif system == "Whoosh StandardAnalyzer":
        from whoosh import index
        from whoosh.analysis import StandardAnalyzer
        from whoosh.fields import ID, TEXT, Schema

        # As issue 20 sets the bar: title and body stored, as searchlib stores them.
        analyzer = StandardAnalyzer(expression=r"\w+(\.?\w+)*")
        schema = Schema(
            id=ID(stored=True, unique=True),
            title=TEXT(analyzer=analyzer, stored=True),
            body=TEXT(analyzer=analyzer, stored=True),
        )
        path.mkdir(parents=True)
        writer = index.create_in(str(path), schema).writer(limitmb=256)
        for d in make_docs():
            writer.add_document(id=d.id, title=d.title, body=d.body)
        writer.commit()
        figures["seconds"] = time.perf_counter() - started
    elif system == "bm25s + PyStemmer":
        from benchmarks.systems import BM25S

        path.mkdir(parents=True)
        BM25S(make_docs()).save(path)
        figures["seconds"] = time.perf_counter() - started
    elif system == "SQLite FTS5":
        from benchmarks.systems import SqliteFTS5

        path.mkdir(parents=True)
        SqliteFTS5(make_docs(), path / "fts.db").db.close()
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


def search_all(system: str, path: Path, questions: list[dict]) -> tuple[float, list[float]]:
    """Milliseconds to open the index and answer the first question, then each question's
    (bm25s is given the question's language, to stem it; the others are not)."""
    started = time.perf_counter()
    if system.startswith("searchlib"):
        import searchlib

        index = searchlib.Index.open(path)

        def run(question: dict) -> None:
            index.search(question["text"], limit=10, highlight=False)
    elif system == "bm25s + PyStemmer":
        from benchmarks.systems import BM25S

        bm25 = BM25S.load(path)

        def run(question: dict) -> None:
            bm25.search(question["text"], question["lang"], 10)
    elif system == "SQLite FTS5":
        from benchmarks.systems import SqliteFTS5

        fts = SqliteFTS5.open(path / "fts.db")

        def run(question: dict) -> None:
            fts.search(question["text"], None, 10)
    elif system == "Whoosh StandardAnalyzer":
        from whoosh import index as whoosh_index
        from whoosh.qparser import MultifieldParser, OrGroup

        ix = whoosh_index.open_dir(str(path))
        searcher = ix.searcher()
        parser = MultifieldParser(["title", "body"], ix.schema, group=OrGroup)

        def run(question: dict) -> None:
            text = plain_words(question["text"])
            [hit["id"] for hit in searcher.search(parser.parse(text), limit=10)]
    else:
        import tantivy

        ix = tantivy.Index.open(str(path))
        searcher = ix.searcher()

        def run(question: dict) -> None:
            query, _ = ix.parse_query_lenient(plain_words(question["text"]), ["text"])
            [searcher.doc(a)["id"] for _, a in searcher.search(query, 10).hits]

    run(questions[0])
    open_ms = (time.perf_counter() - started) * 1000
    latencies = []
    for question in questions:
        t = time.perf_counter()
        run(question)
        latencies.append((time.perf_counter() - t) * 1000)
    return open_ms, latencies


def worker(system: str, scale: int, data: Path, n_queries: int) -> dict:
    base = documents(read_jsonl(data / "corpus.jsonl"))
    megabytes = scale * sum(len(f"{d.title}\n{d.body}".encode()) for d in base) / 1e6
    path = Path(tempfile.mkdtemp(prefix="bench-index-")) / "ix"
    importlib.import_module(engine(system))
    figures = build(system, lambda: stream(base, scale), path)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    questions = list(read_jsonl(data / "queries.jsonl"))
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


def write_corpus(directory: Path, megabytes: int, data: Path) -> int:
    """``megabytes`` of JSONL in 10 MB files: XQuAD paragraphs again and again, each with five
    words of its own, so that the vocabulary grows with the corpus as real names and codes
    make it. Returns the number of documents."""
    directory.mkdir(parents=True, exist_ok=True)
    base = list(read_jsonl(data / "corpus.jsonl"))
    written = count = 0
    file = None
    while written < megabytes << 20:
        if file is None or file.tell() >= 10 << 20:
            if file is not None:
                file.close()
            file = open(directory / f"part{count:07}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        record = base[count % len(base)]
        own = " ".join(f"z{count}q{k}" for k in range(5))
        line = json.dumps(
            {"id": f"d{count}", "title": record.get("title", ""), "body": f"{record['text']} {own}",
             "lang": record.get("lang")},
            ensure_ascii=False,
        ) + "\n"  # fmt: skip
        file.write(line)
        written += len(line.encode("utf-8"))
        count += 1
    if file is not None:
        file.close()
    return count


def peak_memory(command: list[str]) -> dict:
    """Run ``command``; its seconds, the peak of its processes' resident memory together
    (sampled every 20 ms) and the largest peak of one of them (the kernel's, exact)."""
    import psutil

    started = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    together = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            together = max(together, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.02)
    if process.returncode:
        raise RuntimeError(process.stderr.read().decode())
    seconds = time.perf_counter() - started
    one = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss << 10  # max over children so far
    return {"seconds": seconds, "peak_together_mb": together / 2**20, "peak_one_mb": one / 2**20}


def memory_flatness(sizes: list[int], memory_mb: int, jobs: list[int], data: Path, out: Path | None) -> None:
    """Peak memory of ``searchlib index`` on corpora of ``sizes`` MB at ``--memory-mb``."""
    root = Path(tempfile.mkdtemp(prefix="searchlib-memory-"))
    results: dict[str, dict] = {}
    try:
        documents = {size: write_corpus(root / f"{size}MB", size, data) for size in sizes}
        for job_count in jobs:
            for size in sorted(sizes):
                index = root / "index"
                shutil.rmtree(index, ignore_errors=True)
                command = [
                    *(sys.executable, "-m", "searchlib.cli", "index", str(root / f"{size}MB")),
                    *("--index", str(index), "--memory-mb", str(memory_mb), "--jobs", str(job_count)),
                ]
                figures = _alone(command)
                results[f"{size}MB --jobs {job_count}"] = {"megabytes": size, "documents": documents[size],
                                                          "jobs": job_count, **figures}  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"peak memory of `searchlib index --memory-mb {memory_mb}` (MB; processes together, largest one)")
    for job_count in jobs:
        rows = [r for r in results.values() if r["jobs"] == job_count]
        smallest = min(rows, key=lambda r: r["megabytes"])
        for row in sorted(rows, key=lambda r: r["megabytes"]):
            ratio = row["peak_together_mb"] / smallest["peak_together_mb"]
            row["ratio_to_smallest"] = ratio
            print(f"  {row['megabytes']:>4} MB of JSONL, --jobs {job_count}: {row['seconds']:6.1f} s, "
                  f"{row['peak_together_mb']:6.0f} together, {row['peak_one_mb']:6.0f} largest, "
                  f"{ratio:.2f}x the {smallest['megabytes']} MB run")  # fmt: skip
    write_results("bench_index_memory", {"memory_mb": memory_mb, "results": results}, out)


def _alone(command: list[str]) -> dict:
    """:func:`peak_memory` in a process of its own: the kernel's peak of its children is then
    this run's alone."""
    code = (
        "import json, sys; from benchmarks.bench_index import peak_memory; "
        "print(json.dumps(peak_memory(sys.argv[1:])))"
    )
    out = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,4,16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", nargs=2, metavar=("SYSTEM", "SCALE"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--memory", metavar="MB,MB…", help="instead: peak memory of indexing corpora of these sizes"
    )
    parser.add_argument("--memory-mb", type=int, default=16, help="with --memory: the setting")
    parser.add_argument("--jobs", default="1,2", help="with --memory: the --jobs values")
    args = parser.parse_args()
    if args.memory:
        sizes = [int(size) for size in args.memory.split(",")]
        jobs = [int(n) for n in args.jobs.split(",")]
        memory_flatness(sizes, args.memory_mb, jobs, args.data, args.out)
        return
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
