"""Tune the ranking knobs on the tuning splits only (XQuAD ids ending 0-7, NorQuAD train+validation).

Builds each index once, then evaluates every configuration given on the command line:

    python -m benchmarks.tune_ranking 'k1=1.2,b=0.75' 'k1=1.5,b=0.6,title_boost=2'
"""

from __future__ import annotations

import argparse

import attrs

from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from benchmarks.quality import (
    LANG_ORDER,
    documents,
    evaluate,
    qrels,
    sample_per_language,
    xquad_split,
)
from benchmarks.systems import Searchlib
from searchlib.ranking import DEFAULT_RANKING, Ranking


def configuration(text: str) -> Ranking:
    changes = {}
    for pair in filter(None, text.split(",")):
        name, value = pair.split("=")
        changes[name] = value.lower() == "true" if value.lower() in ("true", "false") else float(value)
    return attrs.evolve(DEFAULT_RANKING, **changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+")
    parser.add_argument("--per-lang", type=int, default=None)
    parser.add_argument("--skip-norquad", action="store_true")
    args = parser.parse_args()

    xquad = SHARED_DATA / "xquad"
    x_queries = [q for q in read_jsonl(xquad / "queries.jsonl") if xquad_split(q["id"]) == "tune"]
    if args.per_lang:
        x_queries = sample_per_language(x_queries, args.per_lang)
    x_system = Searchlib(documents(read_jsonl(xquad / "corpus.jsonl")))
    x_relevant = qrels(xquad / "qrels.tsv")
    if not args.skip_norquad:
        norquad = SHARED_DATA / "norquad"
        n_queries = [
            {**q, "lang": "no"} for q in read_jsonl(norquad / "queries.jsonl") if q["split"] != "test"
        ]
        n_system = Searchlib(documents(read_jsonl(norquad / "corpus.jsonl")))
        n_relevant = qrels(norquad / "qrels.tsv")

    rows = {}
    print(f"{'configuration':<44}" + "".join(f"{lang:>6}" for lang in LANG_ORDER) + f"{'macro':>7}{'nor':>7}")
    for text in args.configs:
        ranking = configuration(text)
        x_system.index.set_ranking(ranking)
        x = evaluate(x_system, x_queries, x_relevant)
        row = {lang: x[lang]["mrr10"] for lang in LANG_ORDER} | {"macro": x["macro"]["mrr10"]}
        if not args.skip_norquad:
            n_system.index.set_ranking(ranking)
            row["norquad"] = evaluate(n_system, n_queries, n_relevant)["macro"]["mrr10"]
        rows[text] = row
        cells = "".join(f"{row[lang]:>6.3f}" for lang in LANG_ORDER)
        print(
            f"{text:<44}{cells}{row['macro']:>7.3f}{row.get('norquad', float('nan')):>7.3f}",
            flush=True,
        )
    write_results("tune_ranking", {"rows": rows})


if __name__ == "__main__":
    main()
