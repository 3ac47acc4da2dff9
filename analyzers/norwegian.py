"""Norwegian Bokmål: stopwords, simplemma's dictionary lemmas, Snowball for the rest.

Keeps æ ø å (folding them would merge words such as for/før and dør/dor).
"""

from __future__ import annotations

import re

import snowballstemmer

from analyzers import dictionaries
from analyzers.chain import Chain
from analyzers.normalize import fold
from analyzers.stopwords import stopwords

# A word without a Latin letter (a Russian or Arabic query word read as Norwegian too) is in no
# Norwegian dictionary: asking simplemma would only load it (0.7 s) to say so.
_LATIN = re.compile(r"[a-z\u00df-\u024f]")


def make() -> Chain:
    stemmer = snowballstemmer.stemmer("norwegian")

    def lemma(word: str) -> str:
        if word.isdigit():
            return word
        if not _LATIN.search(word):
            return stemmer.stemWord(word)
        if dictionaries.is_known(word, lang="nb"):
            return dictionaries.lemmatize(word, lang="nb")
        # Genitive -s (menneskenes, byens) is not in the dictionary; the noun is.
        if word.endswith("s") and dictionaries.is_known(word[:-1], lang="nb"):
            return dictionaries.lemmatize(word[:-1], lang="nb")
        return stemmer.stemWord(word)

    return Chain(fold=fold, stem=lemma, stop=stopwords("no", fold))
