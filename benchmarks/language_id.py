"""Language identification accuracy per language: searchlib's script-first detector
against py3langid alone, on XQuAD paragraphs and questions.

    python -m benchmarks.language_id
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from py3langid.langid import MODEL_FILE, LanguageIdentifier

import analyzers
from analyzers.registry import language_code
from benchmarks.common import SHARED_DATA, read_jsonl, write_results


def accuracy(records: list[dict], detect) -> tuple[dict[str, float], float]:
    right, total = Counter(), Counter()
    started = time.perf_counter()
    for record in records:
        total[record["lang"]] += 1
        right[record["lang"]] += detect(record["text"]) == record["lang"]
    per_text_ms = (time.perf_counter() - started) * 1000 / max(1, len(records))
    return {lang: right[lang] / total[lang] for lang in total}, per_text_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    systems = {
        "searchlib": analyzers.detect_language,
        "py3langid alone": lambda text: language_code(model.classify(text)[0]),
    }
    figures = {}
    for kind, filename in (("paragraphs", "corpus.jsonl"), ("questions", "queries.jsonl")):
        records = read_jsonl(args.data / filename)
        langs = sorted({r["lang"] for r in records})
        print(f"\n{kind} ({len(records)})")
        print(f"{'system':<18}" + "".join(f"{lang:>7}" for lang in langs) + f"{'macro':>8}{'ms/text':>9}")
        figures[kind] = {}
        for name, detect in systems.items():
            per_lang, ms = accuracy(records, detect)
            macro = sum(per_lang.values()) / len(per_lang)
            figures[kind][name] = {"per_language": per_lang, "macro": macro, "ms_per_text": ms}
            print(
                f"{name:<18}"
                + "".join(f"{per_lang[lang]:>7.3f}" for lang in langs)
                + f"{macro:>8.3f}{ms:>9.3f}"
            )
        ours, base = figures[kind]["searchlib"]["macro"], figures[kind]["py3langid alone"]["macro"]
        print(f"error rate ratio (searchlib / py3langid alone): {(1 - ours) / max(1e-9, 1 - base):.2f}")
    write_results("language_id", figures, args.out)


if __name__ == "__main__":
    main()
