"""Analyzer throughput per language against plain Snowball on the same running text.

Text: each language's XQuAD paragraphs. Ours is ``analyzers.analyze``, measured twice:
*cold*, its word cache emptied before every repeat, so each distinct word of the text
is lemmatized once (on these small texts 40% of Russian tokens are distinct forms);
*warm*, the cache already holding the text's words, as in a long indexing run where
most tokens are forms seen before. The baseline is the same tokenizer, lowercasing and
an uncached Snowball stemmer (PyStemmer when installed); languages Snowball lacks get
tokenizing and lowercasing. Arabic is also analyzed and indexed (its paragraphs, language
given) with searchlib 0.1's chain (light stems, no dictionary) in the same run: the
lemmas' cost is the ratio of the two.

    python -m benchmarks.analyzer_speed [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import snowballstemmer

import analyzers
import searchlib
from analyzers import arabic
from analyzers.chain import Chain
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


def with_chain(chain: Chain) -> Callable[[str], int]:
    """``analyzers.analyze`` with another chain in place of the registered one."""

    def run(text: str) -> int:
        return sum(1 for word, *_ in analyzers.words(text) if chain.term(word))

    return run


def arabic_chains(texts: list[str], repeats: int) -> dict[str, dict[str, float]]:
    """Arabic analyzed, and indexed, with the chain of each version, cold and warm."""
    chains = {"now (lemmas)": analyzers.chain("ar"), "then (light stems)": arabic.make_light()}
    documents = [
        searchlib.Document(id=str(i), title="", body=text, lang="ar") for i, text in enumerate(texts)
    ]
    figures = {}
    for (name, chain), version in zip(chains.items(), (analyzers.VERSIONS["ar"], 1), strict=True):
        run = with_chain(chain)
        figures[name] = {
            "cold_tokens_per_s": tokens_per_second(run, texts, repeats, analyzers.clear_word_caches),
            "warm_tokens_per_s": tokens_per_second(run, texts, repeats, lambda: None),
            "cold_index_docs_per_s": documents_per_second(documents, version, repeats, cold=True),
            "warm_index_docs_per_s": documents_per_second(documents, version, repeats, cold=False),
        }
    now, then = figures.values()
    figures["ratio now / then"] = {key: now[key] / then[key] for key in now}
    print("\nArabic (XQuAD-ar), now against searchlib 0.1's chain, in this run")
    for name, row in figures.items():
        print(f"  {name:<20}" + "".join(f"{key} {value:,.2f}  " for key, value in row.items()))
    return figures


def documents_per_second(
    documents: list[searchlib.Document], version: int, repeats: int, cold: bool
) -> float:
    """Index ``documents`` into a new index made with Arabic chain ``version``; ``cold``: the
    word caches emptied first (the lexicon stays loaded, as in any process past its first
    Arabic word)."""
    timings = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as directory:
            index = searchlib.Index.create(Path(directory) / "index", chain_versions={"ar": version})
            if cold:
                analyzers.clear_word_caches()
            started = time.perf_counter()
            index.add(documents)
            timings.append(time.perf_counter() - started)
            index.close()
    return len(documents) / statistics.median(timings)


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
    if "ar" in texts:
        rows["ar"]["chains"] = arabic_chains(texts["ar"], args.repeats)
    write_results("analyzer_speed", {"repeats": args.repeats, "results": rows}, args.out)


if __name__ == "__main__":
    main()
