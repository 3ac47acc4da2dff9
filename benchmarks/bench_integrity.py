"""What searchlib's protections against untrusted and damaged indexes cost.

The XQuAD index is opened, searched and committed to *protected* (pickles read through
searchlib.safepickle, every file verified against its commit's checksums before its first
read, commits written with a manifest) and *plain* (Whoosh's modules given back the
plain ``pickle`` functions, files read unverified, Whoosh's own commit): for this
measurement only, each mode on its own copy of the index. Modes alternate over
``--repeats``; medians are compared.

- open: ``Index.open`` and a first search, as a new process does (verification is
  forgotten before each: its cost is counted every time);
- search: ``--queries`` XQuAD questions, top 10 with snippets (stored fields unpickled);
- commit: adding and replacing 20 documents, one commit (5 per repeat, each a sample).

    python -m benchmarks.bench_integrity [--repeats 7] [--queries 300]
"""

from __future__ import annotations

import argparse
import importlib
import pickle
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import attrs
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

import searchlib
from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from benchmarks.quality import documents
from searchlib import commits, safepickle, storage

MODES = ("protected", "plain")
COMMITS = 5  # per repeat and mode
_PROTECTED_OPEN = storage.DurableFileStorage.open_file
_PROTECTED_WRITER = storage.SealedIndex.writer


def set_protection(protected: bool) -> None:
    """Point Whoosh's pickle readers, searchlib's storage and its writers at the protected
    functions, or back at Whoosh's own."""
    if protected:
        safepickle.install()
        storage.DurableFileStorage.open_file = _PROTECTED_OPEN
        storage.SealedIndex.writer = _PROTECTED_WRITER
        return
    swaps = {
        id(safepickle.loads): pickle.loads,
        id(safepickle.load): pickle.load,
        id(safepickle._SAFE_PICKLE): pickle,
    }
    for name in safepickle._READERS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attribute, value in list(vars(module).items()):
            if id(value) in swaps:
                setattr(module, attribute, swaps[id(value)])
    storage.DurableFileStorage.open_file = FileStorage.open_file
    storage.SealedIndex.writer = lambda self, procs=1, **kwargs: SegmentWriter(self, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    corpus = documents(read_jsonl(args.data / "corpus.jsonl"))
    questions = [q["text"] for q in read_jsonl(args.data / "queries.jsonl")][::20][: args.queries]
    work = Path(tempfile.mkdtemp())
    with searchlib.Index.create(work / "protected") as index:
        index.add(corpus)
    shutil.copytree(work / "protected", work / "plain")
    size = sum(f.stat().st_size for f in (work / "protected").iterdir())

    times = {mode: {"open": [], "search": [], "commit": []} for mode in MODES}
    for repeat in range(args.repeats):
        batch = [
            searchlib.Document(
                id=d.id if i % 2 else f"new-{repeat}-{i}", title=d.title, body=d.body + " ", lang=d.lang
            )
            for i, d in enumerate(corpus[repeat * 20 : repeat * 20 + 20])
        ]
        for mode in MODES if repeat % 2 == 0 else MODES[::-1]:
            set_protection(mode == "protected")
            figures = times[mode]
            commits.forget_verified()
            started = time.perf_counter()
            index = searchlib.Index.open(work / mode)
            index.search("x")
            figures["open"].append(time.perf_counter() - started)
            started = time.perf_counter()
            for question in questions:
                index.search(question, limit=10)
            figures["search"].append(time.perf_counter() - started)
            for commit in range(COMMITS):  # each a sample: a commit's time varies with the disk
                changed = [attrs.evolve(d, body=f"{d.body} {mode} {commit}") for d in batch]  # all new
                started = time.perf_counter()
                index.add(changed)
                figures["commit"].append(time.perf_counter() - started)
            index.close()
    set_protection(True)
    shutil.rmtree(work, ignore_errors=True)

    results = {}
    print(f"index of {len(corpus):,} documents, {size / 1e6:.1f} MB; medians of {args.repeats}, seconds")
    print(f"{'':<8}{'protected':>12}{'plain':>10}{'ratio':>8}")
    for what in ("open", "search", "commit"):
        protected = statistics.median(times["protected"][what])
        plain = statistics.median(times["plain"][what])
        results[what] = {"protected_s": protected, "plain_s": plain, "ratio": protected / plain}
        print(f"{what:<8}{protected:>12.4f}{plain:>10.4f}{protected / plain:>8.3f}")
    write_results(
        "bench_integrity",
        {"documents": len(corpus), "index_bytes": size, "queries": len(questions), "repeats": args.repeats,
         "results": results},
        args.out,
    )  # fmt: skip


if __name__ == "__main__":
    main()
