"""Open, search and commit times of this checkout against another revision's, same run.

The other revision is a checkout of its own (``git worktree add /tmp/before REV``), imported
in place of this one through PYTHONPATH by a worker process; the two alternate over
``--repeats``. Each worker indexes the XQuAD documents, then measures ``Index.open`` with a
first search, ``--queries`` searches and 40 commits of 20 documents (half new, half
replacing), and prints medians.

    git worktree add /tmp/before 28daa9c
    python -m benchmarks.bench_revisions /tmp/before [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.common import REPO, SHARED_DATA, write_results

COMMITS = 40


# The worker imports nothing from this checkout but searchlib, from the tree it is given.
WORKER = """
import json, statistics, sys, tempfile, time
from pathlib import Path
import searchlib

data, queries, commits = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
lines = (json.loads(line) for line in open(data / "corpus.jsonl", encoding="utf-8"))
corpus = [searchlib.Document(id=r["id"], title=r.get("title", ""), body=r["text"], lang=r.get("lang"))
          for r in lines]
questions = [json.loads(line)["text"] for line in open(data / "queries.jsonl", encoding="utf-8")]
questions = questions[::20][:queries]
path = Path(tempfile.mkdtemp()) / "index"
with searchlib.Index.create(path) as index:
    index.add(corpus)
searchlib.Index.open(path).search("x")  # models and caches loaded: opening is measured alone
started = time.perf_counter()
index = searchlib.Index.open(path)
index.search("x")
opened = time.perf_counter() - started
started = time.perf_counter()
for question in questions:
    index.search(question, limit=10)
searched = time.perf_counter() - started
times = []
for n in range(commits):
    batch = [searchlib.Document(id=d.id if i % 2 else f"new-{n}-{i}", title=d.title,
                                body=f"{d.body} {n}", lang=d.lang)
             for i, d in enumerate(corpus[n * 20 : n * 20 + 20])]
    started = time.perf_counter()
    index.add(batch)
    times.append(time.perf_counter() - started)
print(json.dumps({"open_s": opened, "search_s": searched, "commit_s": statistics.median(times)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a checkout of the revision to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    trees = {"now": REPO, "before": args.before.resolve()}
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    for repeat in range(args.repeats):
        for name in trees if repeat % 2 == 0 else list(trees)[::-1]:
            out = subprocess.run(
                [sys.executable, "-c", WORKER, str(args.data), str(args.queries), str(COMMITS)],
                capture_output=True, text=True, check=True, cwd=trees[name],
                env={**os.environ, "PYTHONPATH": str(trees[name])},
            )  # fmt: skip
            runs[name].append(json.loads(out.stdout.splitlines()[-1]))
    results = {}
    print(f"{'':<8}{'now':>10}{'before':>10}{'ratio':>8}   (seconds, medians of {args.repeats})")
    for what in ("open_s", "search_s", "commit_s"):
        now = statistics.median(r[what] for r in runs["now"])
        before = statistics.median(r[what] for r in runs["before"])
        results[what] = {"now": now, "before": before, "ratio": now / before}
        print(f"{what[:-2]:<8}{now:>10.4f}{before:>10.4f}{now / before:>8.3f}")
    write_results("bench_revisions", {"before": str(args.before), "results": results}, args.out)


if __name__ == "__main__":
    main()
