"""Query latency against what users would pick instead, in one run: searchlib (with and without
snippets), bm25s with PyStemmer per document language, SQLite FTS5, Tantivy and Whoosh.

Corpus: the XQuAD documents (2,880 in 12 languages) copied ``--scales`` times with distinct
ids (16: 46,080). Queries: ``--per-lang`` held-out XQuAD questions per language, searchlib never
told their language (the baselines that stem per language are given it, to their advantage).
Each system (searchlib with snippets is one of its own) is built and queried in a fresh
process, so its peak memory is its own and no cache of one run serves another; each warms
up on 20 tuning-split questions first, never on a timed one. Figures: p50, p95 and p99 per
language and over all questions, each system's ratio to bm25s, build seconds and peak RSS.

What snippets cost is given two ways: the difference of the medians with and without them
(``snippet_share_p50``, two processes), and, timed within each search with snippets, the
median over questions of the share of its time spent making them (``snippet_share_in_process``).

With ``--repeats N`` every system runs N times, the systems taking turns (one run of each,
then the next round), and each figure is the median of its N runs: a slow spell of the
machine then lands on one run of each system, not on all of one system's questions.

``--one-process`` also times searchlib (without snippets) and bm25s in one process, the way a
check that calls the public API beside bm25s times them, two ways, each in a process of its
own: question by question (each question asked of both in turn, who goes first alternating)
and in blocks (the two take turns at blocks of 100 questions). A slow spell, or a process
that runs slower than another (they differ by up to 15% here), then weighs on both sides of
each ratio alike. Question by question, each system also evicts the other's data from the
CPU's caches between two of its questions, which costs the faster more: in blocks, each runs
100 questions on end, as it does alone. (searchlib with snippets is left out: it would meet
each question a second time, its words and hits known.)

    python -m benchmarks.bench_query [--scales 1,16] [--per-lang 100] [--systems ...] [--repeats 1]
                                     [--one-process]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import bench_index
from benchmarks.common import SHARED_DATA, read_jsonl, time_calls, write_results
from benchmarks.quality import xquad_split

SYSTEMS = (
    "searchlib",
    "searchlib + snippets",
    "bm25s + PyStemmer",
    "SQLite FTS5",
    "Tantivy",
    "Whoosh StandardAnalyzer",
)
BASELINE = "bm25s + PyStemmer"
ONE_PROCESS = "one process"  # where the results keep searchlib and bm25s timed side by side
SIDE_BY_SIDE = {"question by question": 1, "in blocks": 100}  # the ways: turns of this many questions
WARM_UP = 20


def questions(data: Path, per_lang: int, split: str = "heldout") -> list[dict]:
    chosen: dict[str, list[dict]] = {}
    for query in read_jsonl(data / "queries.jsonl"):
        if xquad_split(query["id"]) == split:
            chosen.setdefault(query["lang"], []).append(query)
    picked = []
    for items in chosen.values():
        stride = max(1, len(items) // per_lang)
        picked += items[::stride][:per_lang]
    return picked


def build(system: str, corpus: list):
    from benchmarks import systems

    if system.startswith("searchlib"):
        import tempfile

        import searchlib

        index = searchlib.Index.create(Path(tempfile.mkdtemp(prefix="bench-query-")) / "index")
        index.add(corpus, jobs=2)
        return index
    kinds = {
        "bm25s + PyStemmer": systems.BM25S,
        "SQLite FTS5": systems.SqliteFTS5,
        "Tantivy": systems.Tantivy,
        "Whoosh StandardAnalyzer": systems.WhooshStandard,
    }
    return kinds[system](corpus)


def prepared(scale: int, data: Path, per_lang: int) -> tuple[list, list[dict], list[dict]]:
    """The corpus ``scale`` times, the questions timed, and those to warm up on (never timed:
    no cache holds a timed one)."""
    warm_up = questions(data, 2, split="tune")[:WARM_UP]
    return bench_index.corpus(data, scale), questions(data, per_lang), warm_up


def asker(system: str, built) -> Callable[[dict], object]:
    """How ``system`` is asked a question: searchlib never told its language, the others told."""
    if system == "searchlib":
        return lambda q: built.search(q["text"], highlight=False)
    if system == "searchlib + snippets":
        return lambda q: built.search(q["text"])
    return lambda q: built.search(q["text"], q["lang"], 10)


def worker(system: str, scale: int, data: Path, per_lang: int) -> dict:
    """Build ``system`` over the corpus ``scale`` times and time every question: one process."""
    if system in SIDE_BY_SIDE:
        return side_by_side(scale, data, per_lang, SIDE_BY_SIDE[system])
    corpus, asked, warm_up = prepared(scale, data, per_lang)
    started = time.perf_counter()
    run = asker(system, build(system, corpus))
    build_s = time.perf_counter() - started
    del corpus
    for query in warm_up:
        run(query)
    timing_snippets = system == "searchlib + snippets"
    spent = [0.0]  # seconds in the snippet code during the current question
    if timing_snippets:
        timed_snippets(spent)
    rows, snippet_shares = [], []
    for query in asked:
        spent[0] = 0.0
        began = time.perf_counter()
        run(query)
        seconds = time.perf_counter() - began
        rows.append((query["lang"], seconds * 1000))
        snippet_shares.append(spent[0] / seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"build_s": build_s, "peak_rss_mb": peak_mb, "timings": {system: rows}}
    if timing_snippets:
        figures["snippet_share_in_process"] = statistics.median(snippet_shares)
    return figures


def side_by_side(scale: int, data: Path, per_lang: int, turn: int) -> dict:
    """searchlib (without snippets) and bm25s built in this process, taking turns at ``turn``
    questions each, the first of them alternating from one turn to the next."""
    corpus, asked, warm_up = prepared(scale, data, per_lang)
    started = time.perf_counter()
    runs = {name: asker(name, build(name, corpus)) for name in ("searchlib", BASELINE)}
    build_s = time.perf_counter() - started
    del corpus
    for query in warm_up:
        for run in runs.values():
            run(query)
    names = list(runs)
    timings: dict[str, list[tuple[str, float]]] = {name: [] for name in names}
    for number, start in enumerate(range(0, len(asked), turn)):
        for name in names if number % 2 == 0 else names[::-1]:
            for query in asked[start : start + turn]:
                began = time.perf_counter()
                runs[name](query)
                timings[name].append((query["lang"], (time.perf_counter() - began) * 1000))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"build_s": build_s, "peak_rss_mb": peak_mb, "timings": timings}


def timed_snippets(spent: list[float]) -> None:
    """Add the seconds searchlib spends in its snippet code to ``spent[0]``. The difference
    of two processes' medians (``snippet_share_p50``) moves with each process's speed by
    more than the snippets cost; this is each question's own share."""
    from searchlib.index import _MarkedTerms

    def add(seconds: float) -> None:
        spent[0] += seconds

    for name in ("__init__", "read_positions", "snippet", "highlights"):  # made for snippets only
        time_calls(_MarkedTerms, name, add)


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {"p50": statistics.median(ordered), "p95": at(0.95), "p99": at(0.99)}


def run_worker(system: str, scale: int, data: Path, per_lang: int) -> dict:
    """One run of ``system`` in a fresh process: its build time, peak memory and timings."""
    command = [sys.executable, "-m", "benchmarks.bench_query", "--worker", system, "--scale", str(scale)]
    command += ["--data", str(data), "--per-lang", str(per_lang)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{system} at {scale}x failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def summary(rows: list[tuple[str, float]], figures: dict) -> dict:
    """One run's percentiles, over all questions and per language."""
    langs = sorted({lang for lang, _ in rows})
    return {
        "all": percentiles([ms for _, ms in rows]),
        "per_lang": {lang: percentiles([ms for code, ms in rows if code == lang]) for lang in langs},
        "build_s": figures["build_s"],
        "peak_rss_mb": figures["peak_rss_mb"],
        "queries": len(rows),
        **{key: figures[key] for key in ("snippet_share_in_process",) if key in figures},
    }


def median_of(runs: list[dict]) -> dict:
    """Each figure of a system's runs, the median over them (the runs themselves kept)."""
    median = statistics.median
    return {
        "all": {key: median([run["all"][key] for run in runs]) for key in runs[0]["all"]},
        "per_lang": {
            lang: {key: median([run["per_lang"][lang][key] for run in runs]) for key in figures}
            for lang, figures in runs[0]["per_lang"].items()
        },
        "build_s": median([run["build_s"] for run in runs]),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "queries": runs[0]["queries"],
        "runs": [run["all"] for run in runs] if len(runs) > 1 else [],
        **{
            key: median([run[key] for run in runs]) for key in ("snippet_share_in_process",) if key in runs[0]
        },
    }


def side_by_side_figures(together: dict[str, list[dict]]) -> dict:
    """The one-process runs' figures per system, with each run's ratios to bm25s (taken
    within the run) and their medians."""
    figures: dict = {name: median_of(measured) for name, measured in together.items()}
    pairs = zip(together["searchlib"], together[BASELINE], strict=True)
    ratios = [tuple(own["all"][key] / base["all"][key] for key in ("p50", "p95")) for own, base in pairs]
    figures["searchlib"]["run_ratios"] = ratios
    figures["searchlib"]["p50_vs_bm25s"] = statistics.median(p50 for p50, _ in ratios)
    figures["searchlib"]["p95_vs_bm25s"] = statistics.median(p95 for _, p95 in ratios)
    return figures


def print_side_by_side(way: str, figures: dict) -> None:
    print(f"\nin one process, {way}")
    print(f"{'system':<26}{'p50 ms':>8}{'p95 ms':>8}{'p50 vs bm25s':>14}{'p95 vs bm25s':>14}  each run's p50")
    for name, figure in figures.items():
        ratios = figure.get("run_ratios")
        shown = f"{figure['p50_vs_bm25s']:>13.2f}x{figure['p95_vs_bm25s']:>13.2f}x" if ratios else " " * 28
        each = "  " + ", ".join(f"{p50:.2f}x" for p50, _ in ratios) if ratios else ""
        print(f"{name:<26}{figure['all']['p50']:>8.2f}{figure['all']['p95']:>8.2f}{shown}{each}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,16")
    parser.add_argument("--per-lang", type=int, default=100)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--repeats", type=int, default=1, help="runs of each system, taking turns")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--one-process", action="store_true", help="also time them side by side")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.scale, args.data, args.per_lang)))
        return

    results: dict[str, dict] = {}
    side_by_side_results: dict[str, dict] = {}  # --one-process
    for scale in (int(s) for s in args.scales.split(",")):
        label = f"{scale}x"
        runs: dict[str, list[dict]] = {}
        together: dict[str, dict[str, list[dict]]] = {way: {} for way in SIDE_BY_SIDE}
        for _ in range(args.repeats):
            for system in args.systems.split(","):
                figures = run_worker(system, scale, args.data, args.per_lang)
                for name, rows in figures["timings"].items():
                    runs.setdefault(name, []).append(summary(rows, figures))
            for way in SIDE_BY_SIDE if args.one_process else ():
                figures = run_worker(way, scale, args.data, args.per_lang)
                for name, rows in figures["timings"].items():
                    together[way].setdefault(name, []).append(summary(rows, figures))
        results[label] = {name: median_of(measured) for name, measured in runs.items()}
        base = results[label].get(BASELINE)
        print(f"\n{label}: {args.per_lang} held-out questions per language")
        print(f"{'system':<26}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'p50 vs bm25s':>14}{'p95 vs bm25s':>14}"
              f"{'build s':>9}{'RSS MB':>8}")  # fmt: skip
        for name, figure in results[label].items():
            if base:
                figure["p50_vs_bm25s"] = figure["all"]["p50"] / base["all"]["p50"]
                figure["p95_vs_bm25s"] = figure["all"]["p95"] / base["all"]["p95"]
            ratios = f"{figure['p50_vs_bm25s']:>13.2f}x{figure['p95_vs_bm25s']:>13.2f}x" if base else " " * 28
            print(
                f"{name:<26}{figure['all']['p50']:>8.2f}{figure['all']['p95']:>8.2f}{figure['all']['p99']:>8.2f}"
                f"{ratios}{figure['build_s']:>9.1f}{figure['peak_rss_mb']:>8.0f}"
            )
        with_snippets = results[label].get("searchlib + snippets")
        if with_snippets and "searchlib" in results[label]:  # issue 20's bar: at most 30%
            plain = results[label]["searchlib"]["all"]["p50"]
            share = (with_snippets["all"]["p50"] - plain) / with_snippets["all"]["p50"]
            with_snippets["snippet_share_p50"] = share
            print(f"snippets: {share:.0%} of a query's time at the median")
            inside = with_snippets["snippet_share_in_process"]
            print(f"snippets, timed within each search: {inside:.0%} of its time at the median")
        if args.one_process:
            side_by_side_results[label] = {way: side_by_side_figures(t) for way, t in together.items()}
            for way, figures in side_by_side_results[label].items():
                print_side_by_side(way, figures)
        if "searchlib" in results[label]:
            langs = sorted(results[label]["searchlib"]["per_lang"])
            print(f"\n{label} p50 ms per language")
            print(f"{'system':<26}" + "".join(f"{lang:>7}" for lang in langs))
            for name, figure in results[label].items():
                row = "".join(
                    f"{figure['per_lang'].get(lang, {}).get('p50', float('nan')):>7.2f}" for lang in langs
                )
                print(f"{name:<26}{row}")
    figures = {"per_lang": args.per_lang, "repeats": args.repeats, "results": results}
    if side_by_side_results:
        figures[ONE_PROCESS] = side_by_side_results
    write_results("bench_query", figures, args.out)


if __name__ == "__main__":
    main()
