"""Offline language identification: by script first, then a model among that script's languages.

A model alone is unreliable on short text (py3langid calls ``АСЕАН`` Belarusian and
``آسيان`` Egyptian Arabic), so the script decides the candidates, each script has a
default language that wins when the model is unsure, and a caller that knows which
languages are possible (an index's languages) can narrow the candidates further.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import regex

from analyzers.registry import language_code

if TYPE_CHECKING:
    import numpy as np

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
WALK_BYTES = 256  # a text up to this long is walked byte by byte (_Walker._walked), a longer one in windows
MAX_CANDIDATE_SETS = 256  # sets of candidate languages whose model columns are kept
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
    allowed = _codes(tuple(candidates)) if candidates is not None else None
    sample = text[:SAMPLE_CHARS]
    script = dominant_script(sample)
    if script is None:
        return None, [(lang, 1.0 / len(allowed)) for lang in sorted(allowed)] if allowed else []
    kana = script == "Han" and _SCRIPT_PATTERNS["Kana"].search(sample) is not None
    langs, model_langs = _script_candidates(script, allowed, kana)
    if len(langs) == 1:
        return script, [(langs[0], 1.0)]
    if script == "Han" or not model_langs:
        # Han characters alone are Chinese or Japanese kanji alike (図書館, 東京): both
        # readings count; kana, when present, made it Japanese above.
        return script, [(lang, 1.0 / len(langs)) for lang in langs]
    scores = _walker().likelihoods(sample, model_langs)
    prior = SCRIPT_PRIORS.get(script, DEFAULT_PRIOR)
    default = SCRIPT_LANGUAGES[script][0]  # the prior is the default's, not whoever is first
    weighted = {lang: scores[lang] * (prior if lang == default else 1.0) for lang in model_langs}
    total = sum(weighted.values()) or 1.0
    return script, sorted(((lang, p / total) for lang, p in weighted.items()), key=lambda x: -x[1])


@lru_cache(maxsize=64)
def _codes(candidates: tuple[str, ...]) -> frozenset[str]:
    return frozenset(language_code(c) for c in candidates)


@lru_cache(maxsize=256)
def _script_candidates(
    script: str, allowed: frozenset[str] | None, kana: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The languages ``text`` of ``script`` may be in, and those of them the model knows:
    the same for every query of an index (its languages are ``allowed``)."""
    langs = ["ja"] if kana else list(SCRIPT_LANGUAGES[script])
    if allowed is not None:
        langs = [lang for lang in langs if lang in allowed] or sorted(allowed)
    langs = list(dict.fromkeys(langs))
    return tuple(langs), tuple(lang for lang in langs if lang in _model_labels())


def dominant_script(text: str) -> str | None:
    """The script most of the letters in ``text`` are written in, if any is known."""
    if len(_SCRIPT_MARKS) > MAX_MARKED_CHARS:  # text of every character there is: bounded
        _SCRIPT_MARKS.clear()
    marks = text.translate(_SCRIPT_MARKS)
    present = set(marks)
    if len(present) <= 1:  # one script (most text), or none
        return _MARKED_SCRIPTS[marks[0]] if marks else None
    counts = {_MARKED_SCRIPTS[mark]: marks.count(mark) for mark in sorted(present)}
    if "Latin" in counts:  # Latin names and acronyms turn up in text of every script; not the reverse.
        counts["Latin"] //= LATIN_DISCOUNT
    if "Kana" in counts:
        counts["Kana"] += counts.pop("Han", 0)
    return max(counts, key=counts.__getitem__)  # the first of the most, in the scripts' order


class _ScriptMarks(dict):
    """A ``str.translate`` table from each character to a letter marking its script (or
    to None): one pass in C instead of a regular expression per script, 3x faster."""

    def __missing__(self, code_point: int) -> str | None:
        character = chr(code_point)
        mark = next((mark for mark, pattern in _MARKED_PATTERNS if pattern.match(character)), None)
        self[code_point] = mark
        return mark


_MARKED_SCRIPTS = {chr(ord("A") + n): script for n, script in enumerate(_SCRIPT_PATTERNS)}
_MARKED_PATTERNS = [(mark, _SCRIPT_PATTERNS[script]) for mark, script in _MARKED_SCRIPTS.items()]
_SCRIPT_MARKS = _ScriptMarks()
MAX_MARKED_CHARS = 1 << 16


@cache
def _model_labels() -> frozenset[str]:
    return frozenset(_walker().labels)


class _Walker:
    """py3langid's scores of a few candidate languages, computed with numpy.

    py3langid walks its byte automaton one byte at a time in Python (``visit_counts``, half
    a millisecond for a 600-character sample: half of indexing a document whose language is
    not given) and then scores every language it knows. The automaton is Aho-Corasick's: its
    state after a byte is the longest suffix of the text read so far that is a node of its
    trie, so it depends only on the last :attr:`depth` bytes. Every position's state is
    thus found at once, by walking all windows of that many bytes side by side; the
    features, their counts and the naive Bayes scores are py3langid's, for the candidate
    languages only (read from the rows of the text's features: the 28 MB table stays mostly
    unread, as py3langid leaves it): their ratios are what :func:`_identify` uses.
    """

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        import numpy as np

        self._nextmove = arrays["nextmove"].view(np.ndarray)  # indexed without memmap's wrapping
        self._rowbase = np.asarray(arrays["nextmove_row"], dtype=np.int64) << 8
        self._output = np.asarray(arrays["out_feat"], dtype=np.int64)
        self._ptc, self._pc = arrays["ptc"].view(np.ndarray), np.array(arrays["pc"])
        self.depth = int(arrays["depth"])
        self._columns: dict[str, list[int]] = {}
        for column, label in enumerate(arrays["classes"].tolist()):  # a label may have two (srl → sr)
            self._columns.setdefault(label, []).append(column)
        self.labels = list(self._columns)
        self._columns_of: dict[tuple[str, ...], np.ndarray] = {}  # candidates → their columns
        self._width = self._ptc.shape[1]
        self._flat_ptc = self._ptc.reshape(-1)
        # read one number at a time by the byte-by-byte walk: memoryviews, no numpy call each
        self._nextmove_view = memoryview(self._nextmove)
        self._rowbase_view = memoryview(self._rowbase)
        self._output_view = memoryview(self._output)

    def likelihoods(self, text: str, langs: Sequence[str]) -> dict[str, float]:
        """Each of ``langs``'s probability for ``text`` under the model, times one factor
        common to all (the softmax's denominator over the other languages is left out)."""
        import numpy as np

        if text.isupper():  # as py3langid reads a text
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf8", "surrogatepass")
        features, counts = self._walked(data) if len(data) <= WALK_BYTES else self._windowed(data)
        columns = self._columns_of.get(langs := tuple(langs))
        if columns is None:
            if len(self._columns_of) >= MAX_CANDIDATE_SETS:
                self._columns_of.clear()
            columns = self._columns_of[langs] = np.array([c for lang in langs for c in self._columns[lang]])
        if len(features):  # the rows of the text's features only: the model stays mostly unread
            # gathered column by column, the layout BLAS sums in (as ``ptc[features][:, columns]``)
            table = self._flat_ptc[features * self._width + columns[:, None]].T.astype(np.float32)
            scores = np.log1p(counts.astype(np.float32)) @ table + self._pc[columns]
        else:  # no feature: py3langid's scores are all zero
            scores = np.zeros(len(columns), dtype=np.float32)
        scores *= 1.0 / math.sqrt(len(data) or 1)
        odds = np.exp(scores - scores.max()).tolist()  # a language's columns are side by side
        found, at = {}, 0
        for lang in langs:
            width = len(self._columns[lang])
            found[lang] = sum(odds[at : at + width])
            at += width
        return found

    def _walked(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The features of ``data`` in order, with their counts: the automaton walked byte by
        byte, as py3langid walks it, one table read a byte (a short text's way: the windows
        read ``depth`` times as many, each likely a cache miss within a search)."""
        import numpy as np

        nextmove, rowbase, output = self._nextmove_view, self._rowbase_view, self._output_view
        state = 0
        counts: dict[int, int] = {}
        for byte in data:
            state = nextmove[rowbase[state] + byte]
            feature = output[state]
            if feature >= 0:
                counts[feature] = counts.get(feature, 0) + 1
        features = sorted(counts)
        return np.array(features, dtype=np.int64), np.array([counts[f] for f in features], dtype=np.int64)

    def _windowed(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_walked`'s answer, every window of ``depth`` bytes walked side by side."""
        import numpy as np

        read = np.frombuffer(data, np.uint8)
        states = np.zeros(len(read), dtype=np.int64)
        for back in range(min(self.depth, len(read)) - 1, -1, -1):  # oldest byte of each window first
            ahead = states[back:]
            states[back:] = self._nextmove[self._rowbase[ahead] + read[: len(read) - back]]
        found = self._output[states]  # the features in order, and how often each occurs
        return np.unique(found[found >= 0], return_counts=True)


@cache
def _walker() -> _Walker:
    """The model, loaded on first use: it brings numpy, a third of searchlib's start-up. It
    ships LZMA-compressed; :mod:`analyzers.model_cache` keeps it uncompressed in the cache
    directory, mapped into memory in a few hundredths of a second."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    from analyzers.model_cache import langid_arrays

    return _Walker(langid_arrays(MODEL_DIR / MODEL_FILE))
