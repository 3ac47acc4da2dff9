"""Arabic: normalization, then the dictionary lemma (:mod:`analyzers.arabic_lemmas`), or for
words the dictionary does not know a light stemmer in the manner of Lucene's (:func:`make`);
searchlib 0.1's chain, light stems only, stays as :func:`make_light` for its indexes.

Normalization strips tashkeel and tatweel, unifies أ إ آ ٱ to ا, folds ى to ي and
ة to ه, and turns Arabic-Indic and Persian digits into ASCII. Stemming removes one
article/conjunction prefix and then common suffixes, never leaving fewer than two
letters, so names survive (Snowball's Arabic stemmer turns فيتنام into يتنام). A lone
و ("and") is taken off only when four letters or more follow it once suffixes are off:
و begins many stems (وزير "minister", وزيرة, وطن "homeland"), and Lucene's rule made
وزير زير.
"""

from __future__ import annotations

from pyarabic import araby

from analyzers import arabic_lemmas
from analyzers.arabic_lexicon import spelling
from analyzers.chain import Chain
from analyzers.normalize import fold
from analyzers.stopwords import stopwords

_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")
MIN_STEM_AFTER_WAW = 4


def normalize(word: str) -> str:
    """Fold an Arabic word to the form stems and stopwords are compared in."""
    word = araby.strip_tatweel(araby.strip_tashkeel(fold(word)))
    return word.translate(_LETTERS)


def light_stem(word: str) -> str:
    """Lucene's ArabicStemmer: one prefix, then any suffixes, keeping ≥ 2 letters; a lone
    و only when a stem of four letters or more follows it, suffixes off."""
    waw = False
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    else:
        waw = word.startswith("و")
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    if waw and len(word) > MIN_STEM_AFTER_WAW:
        word = word[1:]
    return word


def lemma_or_light_stem(word: str) -> str:
    """The dictionary lemma of a word spelled by :func:`spelling` ("" for a function word
    under clitics), else its light stem; ة folded to ه either way, as people type it."""
    found = arabic_lemmas.lemma(word)
    if found is None:
        return light_stem(normalize(word))
    return found.replace("ة", "ه")


def make() -> Chain:
    return Chain(fold=spelling, stem=lemma_or_light_stem, stop=stopwords("ar", spelling))


def make_light() -> Chain:
    """The chain of searchlib 0.1: normalization and light stemming only."""
    return Chain(fold=normalize, stem=light_stem, stop=stopwords("ar", normalize))
