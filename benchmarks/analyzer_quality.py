"""Conflation quality of the Russian, Norwegian and Arabic analyzers on UD gold lemmas.

Over the distinct lowercased forms of a treebank file (each with its most frequent
gold lemma), each form analyzed alone: recall = share of same-lemma pairs that get
the same term; precision = share of same-term pairs that have the same lemma. Forms
searchlib drops (stopwords, and for Arabic function words under clitics) are left
out of every row, so all rows compare the same forms.
Baselines in the same run: plain Snowball; pymorphy3's first parse for Russian; for
Arabic searchlib 0.1's light stemmer and, if installed (``pip install qalsadi``),
qalsadi's lemmatizer.

    python -m benchmarks.analyzer_quality [--split test|dev] [--data DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pymorphy3
import snowballstemmer

import analyzers
from analyzers import arabic
from analyzers.chain import Chain
from benchmarks.common import SHARED_DATA, write_results

TREEBANKS = {"ru": "ru_gsd", "no": "no_bokmaal", "ar": "ar_pud"}
SNOWBALL = {"ru": "russian", "no": "norwegian", "ar": "arabic"}


def gold_lemmas(path: Path, lang: str = "") -> dict[str, str]:
    """Each distinct lowercased form with its most frequent gold lemma (Arabic lemmas
    normalized as the analyzer normalizes, so spelling variants of one lemma stay one)."""
    lemma_form = arabic.normalize if lang == "ar" else str
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    with path.open(encoding="utf-8") as rows:
        next(rows)
        for row in rows:
            form, lemma, _ = row.rstrip("\n").split("\t")
            counts[form.lower()][lemma_form(lemma.lower())] += 1
    return {form: lemmas.most_common(1)[0][0] for form, lemmas in counts.items()}


def pairs(groups: dict[str, list[str]]) -> int:
    return sum(len(g) * (len(g) - 1) // 2 for g in groups.values())


def conflation(gold: dict[str, str], term_of: Callable[[str], str]) -> dict[str, float]:
    """Pairwise conflation precision, recall and F1 of ``term_of`` against ``gold``."""
    by_lemma: dict[str, list[str]] = defaultdict(list)
    by_term: dict[str, list[str]] = defaultdict(list)
    by_both: dict[tuple[str, str], list[str]] = defaultdict(list)
    for form, lemma in gold.items():
        term = term_of(form)
        by_lemma[lemma].append(form)
        by_term[term].append(form)
        by_both[(lemma, term)].append(form)
    agree = pairs(by_both)
    recall = agree / (pairs(by_lemma) or 1)
    precision = agree / (pairs(by_term) or 1)
    f1 = 2 * precision * recall / ((precision + recall) or 1)
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def chain_term(chain: Chain) -> Callable[[str], str]:
    """The terms a chain gives a form, "" if it drops every word of it."""

    def term(form: str) -> str:
        return " ".join(filter(None, (chain.uncached_term(w) for w, *_ in analyzers.words(form))))

    return term


def searchlib_term(lang: str) -> Callable[[str], str]:
    return chain_term(analyzers.chain(lang))


def snowball_term(lang: str) -> Callable[[str], str]:
    stemmer = snowballstemmer.stemmer(SNOWBALL[lang])
    return lambda form: stemmer.stemWord(form)


def pymorphy_term() -> Callable[[str], str]:
    morph = pymorphy3.MorphAnalyzer()
    return lambda form: morph.parse(form)[0].normal_form


def qalsadi_term() -> Callable[[str], str] | None:
    """qalsadi's lemmatizer as it comes (GPL, slow, not a dependency): None if not installed."""
    try:
        from qalsadi.lemmatizer import Lemmatizer
    except ImportError:
        return None
    lemmatizer = Lemmatizer()
    return lambda form: arabic.normalize(lemmatizer.lemmatize(form))


def baselines(lang: str) -> dict[str, Callable[[str], str]]:
    rows = {"snowball": snowball_term(lang)}
    if lang == "ru":
        rows["pymorphy3 first parse"] = pymorphy_term()
    if lang == "ar":
        rows["searchlib 0.1 (light stems)"] = chain_term(arabic.make_light())
        qalsadi = qalsadi_term()
        if qalsadi:
            rows["qalsadi, raw"] = qalsadi
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["test", "dev"])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "ud")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    figures: dict[str, dict[str, dict[str, float]]] = {}
    for lang, treebank in TREEBANKS.items():
        ours = searchlib_term(lang)
        every_form = gold_lemmas(args.data / f"{treebank}-{args.split}.tsv", lang)
        gold = {form: lemma for form, lemma in every_form.items() if ours(form)}
        rows = {name: conflation(gold, term) for name, term in baselines(lang).items()}
        rows["searchlib"] = conflation(gold, ours)
        figures[lang] = rows
        best_baseline = max(r["f1"] for name, r in rows.items() if name != "searchlib")
        print(
            f"\n{treebank}-{args.split}: {len(gold)} distinct forms ({len(every_form) - len(gold)} dropped)"
        )
        print(f"{'analyzer':<24}{'precision':>10}{'recall':>10}{'F1':>8}{'F1 / best baseline':>20}")
        for name, r in rows.items():
            ratio = r["f1"] / best_baseline
            print(f"{name:<24}{r['precision']:>10.4f}{r['recall']:>10.4f}{r['f1']:>8.4f}{ratio:>20.3f}")
    write_results(f"analyzer_quality_{args.split}", {"split": args.split, "results": figures}, args.out)


if __name__ == "__main__":
    main()
