"""Analyzer throughput per language against plain Snowball on the same running text.

Text: each language's XQuAD paragraphs. Ours is ``analyzers.analyze``, measured twice:
*cold*, its word cache emptied before every repeat, so each distinct word of the text
is lemmatized once (on these small texts 40% of Russian tokens are distinct forms);
*warm*, the cache already holding the text's words, as in a long indexing run where
most tokens are forms seen before. The baseline is the same tokenizer, lowercasing and
an uncached Snowball stemmer (PyStemmer when installed); languages Snowball lacks get
tokenizing and lowercasing.

    python -m benchmarks.analyzer_speed [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import snowballstemmer

import analyzers
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
    print(
        f"{'lang':<6}{'words':>9}{'distinct':>9}{'cold tok/s':>12}{'warm tok/s':>12}{'snowball':>12}"
        f"{'cold ratio':>11}{'warm ratio':>11}"
    )
    for lang, items in texts.items():
        key = analyzers.canonical(lang)
        analyzers.analyze(items[0], key)  # build the chain (dictionaries load) outside the timing
        cold = tokens_per_second(ours(key), items, args.repeats, analyzers.clear_word_caches)
        warm = tokens_per_second(ours(key), items, args.repeats, lambda: None)
        base = tokens_per_second(plain_snowball(lang), items, args.repeats, lambda: None)
        words = [w.lower() for t in items for w, *_ in analyzers.words(t)]
        rows[lang] = {
            "words": len(words),
            "distinct": len(set(words)),
            "cold_tokens_per_s": cold,
            "warm_tokens_per_s": warm,
            "snowball_tokens_per_s": base,
            "cold_ratio": cold / base,
            "warm_ratio": warm / base,
        }
        print(
            f"{lang:<6}{len(words):>9}{len(set(words)):>9}{cold:>12,.0f}{warm:>12,.0f}{base:>12,.0f}"
            f"{cold / base:>11.2f}{warm / base:>11.2f}"
        )
    write_results("analyzer_speed", {"repeats": args.repeats, "results": rows}, args.out)


if __name__ == "__main__":
    main()
