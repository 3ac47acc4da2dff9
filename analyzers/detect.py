"""Offline language identification: by script first, then a model among that script's languages.

A model alone is unreliable on short text (py3langid calls ``АСЕАН`` Belarusian and
``آسيان`` Egyptian Arabic), so the script decides the candidates, each script has a
default language that wins when the model is unsure, and a caller that knows which
languages are possible (an index's languages) can narrow the candidates further.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

import regex

from analyzers.registry import language_code

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

# script → candidate languages, the script's default first.
# Latin-script candidates: the languages with an analyzer, and others common in text.
_LATIN = [
    "en",
    "de",
    "es",
    "fr",
    "it",
    "pt",
    "nl",
    "sv",
    "no",
    "da",
    "fi",
    "hu",
    "ro",
    "tr",
    "id",
    "ca",
    "eu",
    "et",
    "lt",
    "lv",
    "cs",
    "sk",
    "pl",
    "hr",
    "sl",
    "ga",
    "vi",
    "sq",
    "ms",
    "tl",
    "sw",
    "af",
    "is",
    "cy",
]
SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Latin": tuple(_LATIN),
    "Cyrillic": ("ru", "uk", "bg", "sr", "mk", "be", "kk"),
    "Arabic": ("ar", "fa", "ur"),
    "Devanagari": ("hi", "mr", "ne"),
    "Greek": ("el",),
    "Han": ("zh", "ja"),
    "Kana": ("ja",),
    "Hangul": ("ko",),
    "Thai": ("th",),
    "Hebrew": ("he",),
    "Armenian": ("hy",),
    "Georgian": ("ka",),
    "Bengali": ("bn",),
    "Tamil": ("ta",),
}
_SCRIPT_PATTERNS = {
    script: regex.compile(rf"[\p{{{script}}}]") for script in SCRIPT_LANGUAGES if script != "Kana"
}
_SCRIPT_PATTERNS["Kana"] = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
# The model reads this much of a text: 600 characters identify XQuAD's 2,880 paragraphs and
# NorQuAD's 755 documents as well as 4,000 did (2,878 and 755 right; 300 lost 8 NorQuAD
# documents), at 0.29 ms a text instead of 0.64 (XQuAD) and 0.33 instead of 1.21 (NorQuAD).
SAMPLE_CHARS = 600
# Tuned on the XQuAD tuning-split questions (benchmarks/language_id.py reports accuracy):
# how much likelier a script's default language is a priori than its other languages
# (Russian dwarfs the other Cyrillic languages in text; English the Latin ones less so),
DEFAULT_PRIOR = 4.0
SCRIPT_PRIORS = {"Latin": 2.0}
# below which probability the model is guessing and detect_language answers the default,
MIN_CONFIDENCE = 0.15
# and how much less a Latin letter counts in mixed-script text (Latin names occur everywhere).
LATIN_DISCOUNT = 3


def detect_language(text: str, candidates: Iterable[str] | None = None) -> str:
    """The ISO 639-1 code of ``text``'s language (``"no"`` for Bokmål, ``"xx"`` if unknown).

    ``candidates`` narrows the answer to languages known to be possible.
    """
    script, ranked = _identify(text, candidates)
    if not ranked:
        return "xx"
    best, confidence = ranked[0]
    if confidence < MIN_CONFIDENCE and script is not None:
        # The model is guessing (a lone name or acronym): the script's default is likelier.
        default = SCRIPT_LANGUAGES[script][0]
        return default if any(lang == default for lang, _ in ranked) else best
    return best


def language_probabilities(text: str, candidates: Iterable[str] | None = None) -> list[tuple[str, float]]:
    """Candidate languages of ``text`` with probabilities, most likely first."""
    return _identify(text, candidates)[1]


def _identify(text: str, candidates: Iterable[str] | None) -> tuple[str | None, list[tuple[str, float]]]:
    """The dominant script of ``text`` and its candidate languages with probabilities."""
    allowed = {language_code(c) for c in candidates} if candidates is not None else None
    sample = text[:SAMPLE_CHARS]
    script = dominant_script(sample)
    if script is None:
        return None, [(lang, 1.0 / len(allowed)) for lang in sorted(allowed)] if allowed else []
    langs = list(SCRIPT_LANGUAGES[script])
    if script == "Han" and _SCRIPT_PATTERNS["Kana"].search(sample):
        langs = ["ja"]
    if allowed is not None:
        langs = [lang for lang in langs if lang in allowed] or sorted(allowed)
    langs = list(dict.fromkeys(langs))
    if len(langs) == 1:
        return script, [(langs[0], 1.0)]
    if script == "Han":
        # Han characters alone are Chinese or Japanese kanji alike (図書館, 東京): both
        # readings count; kana, when present, made it Japanese above.
        return script, [(lang, 1.0 / len(langs)) for lang in langs]
    model_langs = [lang for lang in langs if lang in _model_labels()]
    if not model_langs:
        return script, [(lang, 1.0 / len(langs)) for lang in langs]
    scores = dict(_model().rank(sample))
    prior = SCRIPT_PRIORS.get(script, DEFAULT_PRIOR)
    default = SCRIPT_LANGUAGES[script][0]  # the prior is the default's, not whoever is first
    weighted = {lang: scores[lang] * (prior if lang == default else 1.0) for lang in model_langs}
    total = sum(weighted.values()) or 1.0
    return script, sorted(((lang, p / total) for lang, p in weighted.items()), key=lambda x: -x[1])


def dominant_script(text: str) -> str | None:
    """The script most of the letters in ``text`` are written in, if any is known."""
    counts: Counter[str] = Counter()
    for script, pattern in _SCRIPT_PATTERNS.items():
        found = len(pattern.findall(text))
        if found:
            counts[script] = found
    if not counts:
        return None
    if len(counts) > 1:
        # Latin names and acronyms turn up in text of every script; not the reverse.
        counts["Latin"] //= LATIN_DISCOUNT
    if counts["Kana"]:
        counts["Kana"] += counts.pop("Han", 0)
    return counts.most_common(1)[0][0]


@cache
def _model() -> LanguageIdentifier:
    """py3langid's model over all its languages; restricting its softmax keeps the ratios.

    Imported on first use: py3langid brings numpy, a third of searchlib's start-up. Its model
    ships LZMA-compressed, and decompressing it took half a second in every process that
    identified a language; :mod:`analyzers.model_cache` keeps it uncompressed in the cache
    directory, mapped into memory in a few hundredths of a second.
    """
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    from analyzers.model_cache import langid_arrays

    arrays = langid_arrays(MODEL_DIR / MODEL_FILE)
    return LanguageIdentifier(
        np.asarray(arrays["ptc"]),
        np.asarray(arrays["pc"]),
        arrays["classes"].tolist(),
        _unsigned(arrays["nextmove"]),
        arrays["out_feat"].tolist(),
        norm_probs=True,
        tk_row=_unsigned(arrays["nextmove_row"]),
    )


def _unsigned(values: object) -> array:
    """A numpy array of unsigned integers as the stdlib array py3langid's tokenizer indexes."""
    import numpy as np

    values = np.ascontiguousarray(values)
    out = array({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])
    out.frombytes(memoryview(values).cast("B"))
    return out


@cache
def _model_labels() -> frozenset[str]:
    return frozenset(_model().labels)
