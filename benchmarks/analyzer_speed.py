"""Analyzer throughput per language against plain Snowball on the same running text.

Text: each language's XQuAD paragraphs. Ours is ``analyzers.analyze`` with its word
caches emptied before every repeat, so the figure includes lemmatizing each new word
once. The baseline is the same tokenizer, lowercasing and an uncached Snowball stemmer
(PyStemmer when installed); languages Snowball lacks get tokenizing and lowercasing.

    python benchmarks/analyzer_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import snowballstemmer

import analyzers
from analyzers.registry import chain
from analyzers.snowball import ALGORITHMS
from benchmarks.common import SHARED_DATA, read_jsonl, write_results


def plain_snowball(lang: str) -> Callable[[str], int]:
    stem = snowballstemmer.stemmer(ALGORITHMS[lang]).stemWord if lang in ALGORITHMS else str

    def run(text: str) -> int:
        count = 0
        for word, *_ in analyzers.words(text):
            stem(word.lower())
            count += 1
        return count

    return run


def ours(lang: str) -> Callable[[str], int]:
    def run(text: str) -> int:
        return len(analyzers.analyze(text, lang))

    return run


def tokens_per_second(
    run: Callable[[str], int], texts: list[str], repeats: int, clear: Callable[[], None]
) -> float:
    words = sum(len(list(analyzers.words(t))) for t in texts)
    timings = []
    for _ in range(repeats):
        clear()
        started = time.perf_counter()
        for text in texts:
            run(text)
        timings.append(time.perf_counter() - started)
    return words / statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad" / "corpus.jsonl")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    texts: dict[str, list[str]] = defaultdict(list)
    for record in read_jsonl(args.data):
        texts[record["lang"]].append(record["text"])
    rows = {}
    print(f"{'lang':<6}{'words':>9}{'ours tok/s':>14}{'snowball tok/s':>16}{'ratio':>8}")
    for lang, items in texts.items():
        key = analyzers.canonical(lang)
        analyzers.analyze(items[0], key)  # build the chain (dictionaries load) outside the timing
        ours_rate = tokens_per_second(ours(key), items, args.repeats, chain(key).term.cache_clear)
        base_rate = tokens_per_second(plain_snowball(lang), items, args.repeats, lambda: None)
        words = sum(len(list(analyzers.words(t))) for t in items)
        rows[lang] = {
            "words": words,
            "ours_tokens_per_s": ours_rate,
            "snowball_tokens_per_s": base_rate,
            "ratio": ours_rate / base_rate,
        }
        print(f"{lang:<6}{words:>9}{ours_rate:>14,.0f}{base_rate:>16,.0f}{ours_rate / base_rate:>8.2f}")
    path = write_results("analyzer_speed", {"repeats": args.repeats, "results": rows}, args.out)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
