"""What reading an index's pickles through the restricted unpickler costs.

The XQuAD index is opened, searched and committed to with searchlib's restricted
unpickler (searchlib.safepickle), and, in the same process, with Whoosh's modules given
back the plain ``pickle`` functions (for this measurement only). Modes alternate over
``--repeats``; medians are compared.

- open: ``Index.open`` and a first search (the table of contents, the snapshot's sets);
- search: ``--queries`` XQuAD questions, top 10 with snippets (stored fields unpickled);
- commit: adding and replacing 20 documents, one commit.

    python -m benchmarks.bench_safepickle [--repeats 7] [--queries 300]
"""

from __future__ import annotations

import argparse
import importlib
import pickle
import statistics
import tempfile
import time
from pathlib import Path

import attrs

import searchlib
from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from benchmarks.quality import documents
from searchlib import safepickle


def set_unpickler(restricted: bool) -> None:
    """Point Whoosh's pickle readers at the restricted functions, or back at pickle's."""
    swaps = {
        id(safepickle.loads): pickle.loads,
        id(safepickle.load): pickle.load,
        id(safepickle._SAFE_PICKLE): pickle,
    }
    if restricted:
        safepickle.install()
        return
    for name in safepickle._READERS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attribute, value in list(vars(module).items()):
            if id(value) in swaps:
                setattr(module, attribute, swaps[id(value)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    corpus = documents(read_jsonl(args.data / "corpus.jsonl"))
    questions = [q["text"] for q in read_jsonl(args.data / "queries.jsonl")][::20][: args.queries]
    path = Path(tempfile.mkdtemp()) / "index"
    with searchlib.Index.create(path) as index:
        index.add(corpus)

    times: dict[str, dict[str, list[float]]] = {
        mode: {"open": [], "search": [], "commit": []} for mode in ("restricted", "plain")
    }
    for repeat in range(args.repeats):
        batch = [
            searchlib.Document(
                id=d.id if i % 2 else f"new-{repeat}-{i}", title=d.title, body=d.body + " ", lang=d.lang
            )
            for i, d in enumerate(corpus[repeat * 20 : repeat * 20 + 20])
        ]
        for mode in ("restricted", "plain") if repeat % 2 == 0 else ("plain", "restricted"):
            set_unpickler(mode == "restricted")
            figures = times[mode]
            started = time.perf_counter()
            index = searchlib.Index.open(path)
            index.search("x")
            figures["open"].append(time.perf_counter() - started)
            started = time.perf_counter()
            for question in questions:
                index.search(question, limit=10)
            figures["search"].append(time.perf_counter() - started)
            changed = [attrs.evolve(d, body=f"{d.body} {mode}") for d in batch]  # all written
            started = time.perf_counter()
            index.add(changed)
            figures["commit"].append(time.perf_counter() - started)
            index.close()
    set_unpickler(True)

    results = {}
    print(f"{'':<8}{'restricted':>12}{'plain':>10}{'ratio':>8}   (medians of {args.repeats}, seconds)")
    for what in ("open", "search", "commit"):
        restricted = statistics.median(times["restricted"][what])
        plain = statistics.median(times["plain"][what])
        results[what] = {"restricted_s": restricted, "plain_s": plain, "ratio": restricted / plain}
        print(f"{what:<8}{restricted:>12.4f}{plain:>10.4f}{restricted / plain:>8.3f}")
    write_results(
        "bench_safepickle", {"queries": len(questions), "repeats": args.repeats, "results": results}, args.out
    )


if __name__ == "__main__":
    main()
