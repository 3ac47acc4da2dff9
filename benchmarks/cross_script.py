"""Cross-script name matching: does a question find the *other* languages' versions of its paragraph?

XQuAD's paragraphs are translations of each other. For every question whose English
version names something (a capitalized word after the first), the targets are the
parallel paragraphs in the eleven other languages; Recall@10 and Recall@100 count how
many of them come back, with the name keys on and off, in the same run. Also the seed
corpus checks: ``АСЕАН`` and ``Laos``.

Precision: the 100 most frequent words (lowercase, no stopwords, three letters or more)
of one language's XQuAD paragraphs, each searched as a lowercase query in an index of
the *other* eleven languages. Whatever cross-script name matching adds to the hits of
the same query without it is noise (a common word is not a name): reported per
language as the share of words that get such hits and the mean number they get.

    python -m benchmarks.cross_script [--split heldout|tune|all] [--skip-recall]
"""

from __future__ import annotations

import argparse
import re
import statistics
from collections import Counter, defaultdict

import analyzers
from benchmarks.common import REPO, SHARED_DATA, read_jsonl, write_results
from benchmarks.quality import LANG_ORDER, documents, xquad_split
from benchmarks.systems import Searchlib
from searchlib.loading import load_paths

_NAME = re.compile(r"\s([A-Z][\w'-]+)")


def paragraph(doc_id: str) -> str:
    return doc_id.split("-", 2)[2]


PRECISION_LANGS = ("en", "de", "es", "ru", "ar", "tr")
COMMON_WORDS = 100


def common_words(corpus: list, lang: str) -> list[str]:
    """The most frequent lowercase words of ``lang``'s paragraphs that are not stopwords."""
    stop = analyzers.chain(lang).stop
    counts: Counter[str] = Counter()
    for doc in corpus:
        if doc.lang == lang:
            counts.update(
                w
                for w, *_ in analyzers.words(doc.body.lower())
                if len(w) >= 3 and w not in stop and w.isalpha()
            )
    return [word for word, _ in counts.most_common(COMMON_WORDS)]


def name_noise(corpus: list) -> dict[str, dict[str, float]]:
    """Per language: common words that cross-script matching gives hits in an index without
    the language, and how many hits on average, beyond the same query without it."""
    figures = {}
    for lang in PRECISION_LANGS:
        others = Searchlib([d for d in corpus if d.lang != lang])
        extra = []
        for word in common_words(corpus, lang):
            on = {h.id for h in others.index.search(word, limit=100, highlight=False)}
            off = {h.id for h in others.index.search(word, limit=100, highlight=False, cross_script=False)}
            extra.append(len(on - off))
        figures[lang] = {
            "words_with_name_hits": sum(1 for n in extra if n) / len(extra),
            "mean_name_hits": statistics.fmean(extra),
        }
        others.index.close()
    figures["macro"] = {
        k: statistics.fmean(figures[lang][k] for lang in PRECISION_LANGS)
        for k in ("words_with_name_hits", "mean_name_hits")
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="heldout", choices=["heldout", "tune", "all"])
    parser.add_argument("--skip-recall", action="store_true", help="only the precision figures")
    args = parser.parse_args()

    seeds = Searchlib([d for d in load_paths([REPO / "seeds"]) if not hasattr(d, "reason")])
    seed_checks = {
        text: [(h.id, h.lang) for h in seeds.index.search(text, highlight=False)]
        for text in ("АСЕАН", "Laos")
    }
    for text, hits in seed_checks.items():
        print(f"seeds, {text!r}: {hits}")

    data = SHARED_DATA / "xquad"
    corpus = documents(read_jsonl(data / "corpus.jsonl"))
    doc_ids = {d.id for d in corpus}
    queries = read_jsonl(data / "queries.jsonl")
    english = {q["id"].rsplit("-", 1)[0]: q["text"] for q in queries if q["lang"] == "en"}
    named = [
        q for q in queries
        if (args.split == "all" or xquad_split(q["id"]) == args.split)
        and _NAME.search(english.get(q["id"].rsplit("-", 1)[0], ""))
    ]  # fmt: skip
    relevant = {}
    for line in (data / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        query_id, doc_id, _ = line.split("\t")
        relevant[query_id] = doc_id
    noise = name_noise(corpus)
    print(f"\nPrecision: the {COMMON_WORDS} commonest words of a language, lowercase, in an index without it")
    print(f"{'':<26}" + "".join(f"{lang:>7}" for lang in PRECISION_LANGS) + f"{'macro':>8}")
    for key, label in (
        ("words_with_name_hits", "words with name hits"),
        ("mean_name_hits", "name hits per word"),
    ):
        cells = "".join(f"{noise[lang][key]:>7.3f}" for lang in PRECISION_LANGS)
        print(f"{label:<26}{cells}{noise['macro'][key]:>8.3f}")
    if args.skip_recall:
        write_results(f"cross_script_precision_{args.split}", {"seeds": seed_checks, "precision": noise})
        return
    ours = Searchlib(corpus)
    results = {}
    for name, cross in (("cross-script on", True), ("cross-script off", False)):
        recall: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for query in named:
            hits = ours.index.search(query["text"], limit=100, highlight=False, cross_script=cross)
            ranked = [h.id for h in hits]
            own = relevant[query["id"]]
            targets = [f"xq-{lang}-{paragraph(own)}" for lang in LANG_ORDER if lang != query["lang"]]
            targets = [t for t in targets if t in doc_ids]
            for cutoff in (10, 100):
                found = sum(1 for t in targets if t in ranked[:cutoff])
                recall[query["lang"]][f"r{cutoff}"].append(found / len(targets))
        summary = {
            lang: {k: statistics.fmean(v) for k, v in recall[lang].items()}
            for lang in LANG_ORDER
            if lang in recall
        }
        summary["macro"] = {
            k: statistics.fmean(summary[lang][k] for lang in LANG_ORDER if lang in summary)
            for k in ("r10", "r100")
        }
        results[name] = summary
    print(f"\nXQuAD {args.split}: {len(named)} questions naming something; recall of the parallel paragraphs")
    print(f"{'':<20}" + "".join(f"{lang:>7}" for lang in LANG_ORDER) + f"{'macro':>8}")
    for name, summary in results.items():
        for cutoff in ("r10", "r100"):
            cells = "".join(f"{summary[lang][cutoff]:>7.3f}" for lang in LANG_ORDER)
            print(f"{name + ' ' + cutoff:<20}{cells}{summary['macro'][cutoff]:>8.3f}")
    on, off = results["cross-script on"]["macro"]["r10"], results["cross-script off"]["macro"]["r10"]
    print(f"Recall@10 on/off: {on:.3f} / {off:.3f}")
    write_results(
        f"cross_script_{args.split}",
        {"seeds": seed_checks, "questions": len(named), "results": results, "precision": noise},
    )


if __name__ == "__main__":
    main()
