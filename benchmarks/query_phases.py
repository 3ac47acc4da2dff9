"""Where a searchlib query's time goes, phase by phase, on first sight and asked again.

bench_query asks each held-out question once, so its figures include what a search does the
first time it meets a word or a document: analyzing the word, reading the term's postings
from the segments' arrays, unpickling the hit's stored fields. Asked again, those are kept
(per word, per commit). This asks the same questions of one index in one process three
times: on a fresh open with the word caches emptied (first sight), on a fresh open with the
words known, and with every term and hit read before; it prints each phase's median per
query each way. Phases nest (stored fields are read within ordering, a query's readings
within the names' yardstick or within evaluation), so they do not add up; the last row is
the sum, question by question, of three that never nest: what the query's words cost before
a single posting is read.

With ``--lang-given`` each question is asked with its language, as bm25s is: "all known" is
then the least a search costs, every cache warm and no language to identify.

    python -m benchmarks.query_phases [--scale 1] [--per-lang 100] [--highlight] [--langs th,vi]
                                      [--lang-given]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import analyzers
import searchlib
from benchmarks.bench_index import stream
from benchmarks.bench_query import WARM_UP, questions
from benchmarks.common import SHARED_DATA, read_jsonl, time_calls, write_results
from benchmarks.quality import documents
from searchlib import index as index_module
from searchlib import matching, ordering, query

PHASES = (  # (owner, attribute, label)
    (query, "parse", "parse"),
    (query, "language_weights", "language identification"),
    (query.Reader, "read", "reading the words (analysis, name keys)"),
    (matching, "evaluate", "evaluation (scoring)"),
    (matching.Documents, "postings", "postings read (within scoring)"),
    (ordering, "ordered", "ordering"),
    (matching.Documents, "stored_fields", "stored fields (within ordering)"),
    (index_module._MarkedTerms, "read_positions", "snippets: positions"),
    (index_module._MarkedTerms, "snippet", "snippets: passages"),
)
TOTAL = "whole search"
# phases that never nest in each other and need no posting: what the query's words cost alone
ANALYSIS = ("parse", "language identification", "reading the words (analysis, name keys)")
QUERY_ANALYSIS = "query analysis (parse, identify, read words)"


def timed(spent: dict[str, float]) -> None:
    """Time each phase, adding its seconds to ``spent`` (this process only)."""
    for owner, name, label in PHASES:
        time_calls(owner, name, lambda seconds, label=label: spent.__setitem__(label, spent[label] + seconds))


Asked = list[tuple[str, str | None]]  # (question, the language it is asked in: None, unknown)


def ask(path: Path, asked: Asked, warm_up: Asked, highlight: bool, spent: dict[str, float]) -> dict:
    """Each of ``asked`` once on ``path`` opened afresh: per phase, the seconds of each question."""
    index = searchlib.Index.open(path)
    for text, lang in warm_up:
        index.search(text, highlight=highlight, lang=lang)
    per_query: dict[str, list[float]] = defaultdict(list)
    for text, lang in asked:
        spent.clear()
        began = time.perf_counter()
        index.search(text, highlight=highlight, lang=lang)
        spent[TOTAL] = time.perf_counter() - began
        for label in [TOTAL, *(label for _, _, label in PHASES)]:
            per_query[label].append(spent.get(label, 0.0))
        per_query[QUERY_ANALYSIS].append(sum(spent.get(label, 0.0) for label in ANALYSIS))
    return per_query


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--per-lang", type=int, default=100)
    parser.add_argument("--highlight", action="store_true", help="with snippets")
    parser.add_argument("--langs", default=None, help="only the questions in these languages (th,vi)")
    parser.add_argument("--lang-given", action="store_true", help="each question asked in its language")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    langs = args.langs.split(",") if args.langs else None
    asked = questions_asked(args.data, "heldout", args.per_lang, args.lang_given, langs)
    if not asked:
        parser.error(f"--langs {args.langs}: no held-out question of {args.data} is in these languages")

    with tempfile.TemporaryDirectory(prefix="query-phases-") as folder:
        figures = phases(Path(folder) / "index", asked, args)
    run = {
        "scale": args.scale,
        "highlight": args.highlight,
        "langs": args.langs,
        "lang_given": args.lang_given,
    }
    write_results("query_phases", {**run, "phases": figures}, args.out)


def questions_asked(
    data: Path, split: str, per_lang: int, lang_given: bool, langs: list[str] | None = None
) -> Asked:
    """The questions of ``split`` (in ``langs`` only, if given), each with its language if
    it is to be given."""
    found = [q for q in questions(data, per_lang, split=split) if langs is None or q["lang"] in langs]
    return [(q["text"], q["lang"] if lang_given else None) for q in found]


def phases(path: Path, texts: Asked, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Build the index at ``path``, ask ``texts`` three ways, print and return the medians."""
    with searchlib.Index.create(path) as index:
        index.add(stream(documents(read_jsonl(args.data / "corpus.jsonl")), args.scale), jobs=2)
    warm_up = questions_asked(args.data, "tune", 2, args.lang_given)[:WARM_UP]
    spent: dict[str, float] = defaultdict(float)
    timed(spent)
    analyzers.clear_word_caches()
    first = ask(path, texts, warm_up, args.highlight, spent)
    again = ask(path, texts, [], args.highlight, spent)  # a fresh open, but the words are known
    again_too = ask(path, texts, texts, args.highlight, spent)  # and every term and document read
    figures: dict[str, dict[str, float]] = {}
    told = "language given" if args.lang_given else "language unknown"
    print(
        f"{len(texts)} questions, {args.scale}x, {'with' if args.highlight else 'without'} snippets, {told}"
    )
    print(f"{'median per query, ms':<44}{'first sight':>12}{'words known':>12}{'all known':>12}")
    for label in first:
        row = [statistics.median(times) * 1000 for times in (first[label], again[label], again_too[label])]
        figures[label] = dict(zip(("first_sight_ms", "words_known_ms", "all_known_ms"), row, strict=True))
        print(f"{label:<44}" + "".join(f"{ms:>12.3f}" for ms in row))
    return figures


if __name__ == "__main__":
    main()
