"""Arabic: our light stemmer against Snowball's Arabic stemmer, on retrieval.

Both after the same normalization and stopwords; XQuAD's Arabic paragraphs and
questions (all twelve languages indexed, the query's language not given).
Snowball's stemmer is more aggressive (فيتنام→يتنام); this measures what that costs.

    python -m benchmarks.arabic_stemmers [--split tune|heldout]
"""

from __future__ import annotations

import argparse

import snowballstemmer

from analyzers import arabic, registry
from analyzers.chain import Chain
from analyzers.stopwords import stopwords
from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from benchmarks.quality import documents, evaluate, qrels, xquad_split
from benchmarks.systems import Searchlib


def snowball_arabic() -> Chain:
    stemmer = snowballstemmer.stemmer("arabic")
    return Chain(fold=arabic.normalize, stem=stemmer.stemWord, stop=stopwords("ar", arabic.normalize))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="tune", choices=["tune", "heldout"])
    args = parser.parse_args()
    data = SHARED_DATA / "xquad"
    corpus = documents(read_jsonl(data / "corpus.jsonl"))
    queries = [
        q
        for q in read_jsonl(data / "queries.jsonl")
        if q["lang"] == "ar" and xquad_split(q["id"]) == args.split
    ]
    relevant = qrels(data / "qrels.tsv")
    rows = {}
    for name, make in (("light stemmer (ours)", arabic.make), ("Snowball Arabic", snowball_arabic)):
        registry._DEDICATED["ar"] = make
        registry.chain.cache_clear()
        rows[name] = evaluate(Searchlib(corpus), queries, relevant)["ar"]
        print(f"{name:<22} MRR@10 {rows[name]['mrr10']:.3f}  R@10 {rows[name]['r10']:.3f}", flush=True)
    ratio = rows["light stemmer (ours)"]["mrr10"] / rows["Snowball Arabic"]["mrr10"]
    print(f"MRR@10 ratio light / Snowball: {ratio:.3f}")
    write_results(f"arabic_stemmers_{args.split}", {"split": args.split, "results": rows})


if __name__ == "__main__":
    main()
