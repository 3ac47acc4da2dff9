"""Every language snowballstemmer ships: fold, stopwords, Snowball stem.

With PyStemmer installed snowballstemmer runs the C stemmers.
"""

from __future__ import annotations

from collections.abc import Callable

import snowballstemmer

from analyzers.chain import Chain
from analyzers.normalize import fold
from analyzers.stopwords import stopwords

ALGORITHMS = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "eo": "esperanto",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "fa": "persian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "st": "sesotho",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}

_LOWER = {
    # Turkish dotted and dotless i: casefold would turn İ into i + combining dot.
    "tr": str.maketrans({"I": "ı", "İ": "i"}),
    # Romanian: the cedilla forms are legacy spellings of ș and ț.
    "ro": str.maketrans({"ş": "ș", "ţ": "ț", "Ş": "ș", "Ţ": "ț"}),
}


def folder(lang: str) -> Callable[[str], str]:
    table = _LOWER.get(lang)
    if table is None:
        return fold
    return lambda word: fold(word.translate(table))


def make(lang: str) -> Chain:
    fold_word = folder(lang)
    stemmer = snowballstemmer.stemmer(ALGORITHMS[lang])
    return Chain(fold=fold_word, stem=stemmer.stemWord, stop=stopwords(lang, fold_word))
