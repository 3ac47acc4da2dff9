"""What facets and sorting cost a search, against the same search without them and against
SQLite FTS5 with a GROUP BY, in the same run.

Corpus: the XQuAD documents copied ``--scale`` times (16: 46,080 documents) with synthetic
fields: ``tags``, 1-3 of 200 tags drawn with Zipf weights (a multi-valued keyword with
facets), and ``price``, a float for 90% of the documents (sortable). Queries: the held-out
XQuAD questions of at least ten words, cut to their first ten (an OR of ten terms matches a
large share of the corpus: the hard case for counting). Each query runs as: the plain top 10
(no snippets); with facet counts of ``tags``; sorted by ``-price``; with both. SQLite FTS5
(unicode61) runs the same words OR-ed: the top 10 by its rank, a GROUP BY over a tags
table joined to the matches, and an ORDER BY price. Figures are per-query milliseconds
(p50, p95), and each variant's ratio to its own system's plain search.

    python -m benchmarks.bench_fields [--scale 16] [--queries 200] [--jobs 2] [--words 10]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import searchlib
from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from benchmarks.quality import xquad_split
from benchmarks.systems import plain_words
from searchlib import fields

TAGS = [f"tag{n:03d}" for n in range(200)]
WEIGHTS = [1 / (rank + 1) for rank in range(len(TAGS))]
QUERY_WORDS = 10
FIELDS = {"tags": fields.Keyword(multiple=True, facet=True), "price": fields.Numeric(float, sortable=True)}


def records(data: Path, scale: int) -> list[dict]:
    """The corpus ``scale`` times over, each copy with its own random tags and price."""
    rng = random.Random(20)
    base = read_jsonl(data / "corpus.jsonl")
    made = []
    for copy in range(scale):
        for record in base:
            values: dict[str, object] = {
                "tags": list(dict.fromkeys(rng.choices(TAGS, WEIGHTS, k=rng.randint(1, 3))))
            }
            if rng.random() < 0.9:
                values["price"] = round(rng.uniform(1, 1000), 2)
            made.append({**record, "id": f"{record['id']}-c{copy}", "fields": values})
    return made


def queries(data: Path, count: int, length: int = QUERY_WORDS) -> list[str]:
    found = []
    for query in read_jsonl(data / "queries.jsonl"):
        words = plain_words(query["text"]).split()
        if xquad_split(query["id"]) == "heldout" and len(words) >= length:
            found.append(" ".join(words[:length]))
    random.Random(7).shuffle(found)
    return found[:count]


def build_searchlib(path: Path, corpus: list[dict], jobs: int) -> searchlib.Index:
    index = searchlib.Index.create(path, fields=FIELDS)
    index.add(
        (
            searchlib.Document(r["id"], r.get("title", ""), r["text"], lang=r.get("lang"), fields=r["fields"])
            for r in corpus
        ),
        jobs=jobs,
    )
    return index


def build_sqlite(path: Path, corpus: list[dict]) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize='unicode61');
        CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT, price REAL);
        CREATE TABLE tags (doc INTEGER, tag TEXT);
        """
    )
    for rowid, record in enumerate(corpus, start=1):
        db.execute(
            "INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)",
            (rowid, record.get("title", ""), record["text"]),
        )
        db.execute("INSERT INTO docs VALUES (?, ?, ?)", (rowid, record["id"], record["fields"].get("price")))
        db.executemany("INSERT INTO tags VALUES (?, ?)", [(rowid, tag) for tag in record["fields"]["tags"]])
    db.execute("CREATE INDEX tags_doc ON tags (doc)")
    db.commit()
    return db


def fts_query(words: str) -> str:
    return " OR ".join(f'"{word}"' for word in words.split())


def timed(run: Callable[[str], object], texts: list[str]) -> list[float]:
    times = []
    for text in texts:
        started = time.perf_counter()
        run(text)
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50_ms": statistics.median(ordered), "p95_ms": ordered[int(0.95 * (len(ordered) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=16)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--words", type=int, default=QUERY_WORDS, help="words per query")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    corpus = records(args.data, args.scale)
    texts = queries(args.data, args.queries, args.words)
    print(f"{len(corpus)} documents, {len(texts)} queries of {args.words} words")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        index = build_searchlib(Path(tmp) / "searchlib", corpus, args.jobs)
        print(f"searchlib indexed in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        db = build_sqlite(Path(tmp) / "fts.db", corpus)
        print(f"SQLite FTS5 indexed in {time.perf_counter() - started:.1f} s")

        def search(**options: object) -> Callable[[str], object]:
            return lambda text: index.search(text, highlight=False, **options)

        def sql(statement: str) -> Callable[[str], object]:
            return lambda text: db.execute(statement, (fts_query(text),)).fetchall()

        variants = {
            "searchlib": {
                "plain": search(),
                "facets": search(facets=["tags"]),
                "sort": search(sort="-price"),
                "facets+sort": search(facets=["tags"], sort="-price"),
            },
            "SQLite FTS5": {
                "plain": sql("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 10"),
                "facets": sql(
                    "SELECT tag, COUNT(*) FROM tags WHERE doc IN (SELECT rowid FROM fts WHERE fts MATCH ?) "
                    "GROUP BY tag ORDER BY COUNT(*) DESC"
                ),
                "sort": sql(
                    "SELECT d.id FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE fts MATCH ? "
                    "ORDER BY d.price IS NULL, d.price DESC LIMIT 10"
                ),
            },
        }
        for runs in variants.values():  # warm: columns, term statistics and caches are read once
            for run in runs.values():
                timed(run, texts[:20])
        matched = statistics.median(index.search(t, highlight=False).total for t in texts)
        results: dict[str, dict] = {}
        for system, runs in variants.items():
            results[system] = {name: summary(timed(run, texts)) for name, run in runs.items()}
        index.close()
        db.close()

    print(f"\nmedian documents matched per query: {matched:.0f} of {len(corpus)}")
    print(f"{'system':<14}{'variant':<13}{'p50 ms':>9}{'p95 ms':>9}{'p50 vs plain':>14}{'vs FTS5 p50':>13}")
    for system, figures in results.items():
        plain = figures["plain"]["p50_ms"]
        for name, figure in figures.items():
            figure["p50_vs_plain"] = figure["p50_ms"] / plain
            fts = results["SQLite FTS5"].get(name)
            figure["p50_vs_fts5"] = figure["p50_ms"] / fts["p50_ms"] if fts else None
            versus = f"{figure['p50_vs_fts5']:.2f}x" if figure["p50_vs_fts5"] else "-"
            print(
                f"{system:<14}{name:<13}{figure['p50_ms']:>9.2f}{figure['p95_ms']:>9.2f}"
                f"{figure['p50_vs_plain']:>13.2f}x{versus:>13}"
            )
    write_results(
        "bench_fields",
        {"documents": len(corpus), "queries": len(texts), "median_matched": matched, "results": results},
        args.out,
    )


if __name__ == "__main__":
    main()
