"""Retrieval quality on one multilingual index, the query's language not given.

XQuAD (12 languages, 2880 paragraphs, one index): per language and macro MRR@10,
Recall@10, Recall@100 and query latency, for searchlib and, in the same run, the
baselines (Whoosh StandardAnalyzer, Tantivy) and searchlib with the language given
(the ceiling for language handling). NorQuAD (Norwegian) on its own index.

Splits: XQuAD questions whose SQuAD id ends in 0-7 are for tuning, 8-f are held out;
NorQuAD tunes on train/validation and reports test.

    python -m benchmarks.quality [--split heldout|tune|all] [--per-lang N] [--skip-norquad]
                                 [--chain-versions ar=1]   # an older chain, to compare
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import analyzers
import searchlib
from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from benchmarks.systems import Searchlib, System, Tantivy, WhooshStandard

LANG_ORDER = ["ar", "ru", "en", "de", "es", "el", "tr", "vi", "ro", "hi", "th", "zh"]


def xquad_split(query_id: str) -> str:
    squad_id = query_id.rsplit("-", 1)[0]
    return "tune" if squad_id[-1] in "01234567" else "heldout"


def sample_per_language(queries: list[dict], per_lang: int) -> list[dict]:
    """At most ``per_lang`` questions per language, spread evenly over all articles."""
    by_lang: dict[str, list[dict]] = defaultdict(list)
    for query in queries:
        by_lang[query["lang"]].append(query)
    sample = []
    for items in by_lang.values():
        stride = max(1, len(items) // per_lang)
        sample += items[::stride][:per_lang]
    return sample


def documents(records: Iterable[dict]) -> list[searchlib.Document]:
    return [
        searchlib.Document(id=r["id"], title=r.get("title", ""), body=r["text"], lang=r.get("lang"))
        for r in records
    ]


def qrels(path: Path) -> dict[str, set[str]]:
    relevant: dict[str, set[str]] = defaultdict(set)
    for line in path.read_text(encoding="utf-8").splitlines():
        query_id, doc_id, *_ = line.split("\t")
        relevant[query_id].add(doc_id)
    return relevant


def evaluate(
    system: System, queries: Sequence[dict], relevant: dict[str, set[str]]
) -> dict[str, dict[str, float]]:
    """Per language: MRR@10, Recall@10, Recall@100, latency p50/p95 (ms), query count."""
    per_lang: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for query in queries:
        started = time.perf_counter()
        ranked = system.search(query["text"], query["lang"], 100)
        elapsed = (time.perf_counter() - started) * 1000
        wanted = relevant[query["id"]]
        rank = next((i for i, doc_id in enumerate(ranked, 1) if doc_id in wanted), None)
        figures = per_lang[query["lang"]]
        figures["mrr10"].append(1 / rank if rank and rank <= 10 else 0.0)
        figures["r10"].append(1.0 if rank and rank <= 10 else 0.0)
        figures["r100"].append(1.0 if rank else 0.0)
        figures["ms"].append(elapsed)
    summary = {}
    for lang, figures in per_lang.items():
        ms = sorted(figures["ms"])
        summary[lang] = {
            "mrr10": statistics.fmean(figures["mrr10"]),
            "r10": statistics.fmean(figures["r10"]),
            "r100": statistics.fmean(figures["r100"]),
            "p50_ms": ms[len(ms) // 2],
            "p95_ms": ms[int(len(ms) * 0.95)],
            "queries": len(ms),
        }
    langs = list(summary)
    summary["macro"] = {
        key: statistics.fmean(summary[lang][key] for lang in langs)
        for key in ("mrr10", "r10", "r100", "p50_ms", "p95_ms")
    }
    summary["macro"]["queries"] = sum(summary[lang]["queries"] for lang in langs)
    pooled = sorted(ms for figures in per_lang.values() for ms in figures["ms"])
    summary["all"] = {"p50_ms": pooled[len(pooled) // 2], "p95_ms": pooled[int(len(pooled) * 0.95)]}
    return summary


def print_table(title: str, results: dict[str, dict], langs: list[str], metric: str) -> None:
    print(f"\n{title} — {metric}")
    header = f"{'system':<28}" + "".join(f"{lang:>7}" for lang in langs) + f"{'macro':>8}"
    print(header)
    for name, summary in results.items():
        row = "".join(f"{summary[lang][metric]:>7.3f}" for lang in langs)
        print(f"{name:<28}{row}{summary['macro'][metric]:>8.3f}")


def print_ratios(results: dict[str, dict], ours: str) -> None:
    print(f"\nratios of {ours!r} to each system (macro MRR@10; median latency over all queries)")
    for name, summary in results.items():
        if name == ours:
            continue
        mrr = results[ours]["macro"]["mrr10"] / (summary["macro"]["mrr10"] or 1)
        latency = results[ours]["all"]["p50_ms"] / (summary["all"]["p50_ms"] or 1)
        print(
            f"  vs {name:<28} MRR@10 x{mrr:.3f}   p50 latency x{latency:.2f}"
            f"   ({results[ours]['all']['p50_ms']:.2f} vs {summary['all']['p50_ms']:.2f} ms)"
        )


def run_xquad(
    data: Path, split: str, per_lang: int | None, baselines: bool, versions: dict[str, int] | None = None
) -> dict:
    corpus = documents(read_jsonl(data / "corpus.jsonl"))
    queries = [
        q for q in read_jsonl(data / "queries.jsonl") if split == "all" or xquad_split(q["id"]) == split
    ]
    if per_lang:
        queries = sample_per_language(queries, per_lang)
    relevant = qrels(data / "qrels.tsv")
    started = time.perf_counter()
    ours = Searchlib(corpus, chain_versions=versions)
    print(f"searchlib indexed {len(corpus)} documents in {time.perf_counter() - started:.1f} s")
    systems: list[System] = [
        ours,
        ours.variant("searchlib, language given", lang_given=True),
        ours.variant("searchlib, no cross-script", cross_script=False),
    ]
    if baselines:
        systems += [WhooshStandard(corpus), Tantivy(corpus)]
    results = {system.name: evaluate(system, queries, relevant) for system in systems}
    langs = [lang for lang in LANG_ORDER if lang in results["searchlib"]]
    for metric in ("mrr10", "r10", "r100", "p50_ms"):
        print_table(f"XQuAD {split}, {len(queries)} questions", results, langs, metric)
    print_ratios(results, "searchlib")
    return {"split": split, "queries": len(queries), "results": results}


def run_norquad(data: Path, split: str, baselines: bool, versions: dict[str, int] | None = None) -> dict:
    corpus = documents(read_jsonl(data / "corpus.jsonl"))
    wanted = {
        "heldout": {"test"},
        "tune": {"train", "validation"},
        "all": {"train", "validation", "test"},
    }[split]
    queries = [{**q, "lang": "no"} for q in read_jsonl(data / "queries.jsonl") if q["split"] in wanted]
    relevant = qrels(data / "qrels.tsv")
    ours = Searchlib(corpus, chain_versions=versions)
    systems: list[System] = [ours]
    if baselines:
        systems.append(WhooshStandard(corpus))
    results = {system.name: evaluate(system, queries, relevant) for system in systems}
    print_table(
        f"NorQuAD {'test' if split == 'heldout' else split}, {len(queries)} questions",
        results,
        ["no"],
        "mrr10",
    )
    print_ratios(results, "searchlib")
    return {"split": split, "queries": len(queries), "results": results}


def chain_version(argument: str) -> tuple[str, int]:
    lang, _, version = argument.partition("=")
    if not version.isdigit():
        raise argparse.ArgumentTypeError(f"expected LANG=VERSION such as ar=1, not {argument!r}")
    return lang, int(version)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="heldout", choices=["heldout", "tune", "all"])
    parser.add_argument("--per-lang", type=int, default=None, help="at most N questions per language")
    parser.add_argument("--xquad", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--norquad", type=Path, default=SHARED_DATA / "norquad")
    parser.add_argument("--skip-norquad", action="store_true")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--chain-versions", type=chain_version, action="append", default=[], metavar="LANG=N")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    versions = dict(args.chain_versions)
    figures = {"xquad": run_xquad(args.xquad, args.split, args.per_lang, not args.no_baselines, versions)}
    if not args.skip_norquad:
        figures["norquad"] = run_norquad(args.norquad, args.split, not args.no_baselines, versions)
    figures["chain_versions"] = {**analyzers.VERSIONS, **versions}
    write_results(f"quality_{args.split}", figures, args.out)


if __name__ == "__main__":
    main()
