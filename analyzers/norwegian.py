"""Norwegian Bokmål: stopwords, simplemma's dictionary lemmas, Snowball for the rest.

Keeps æ ø å (folding them would merge words such as for/før and dør/dor).
"""

from __future__ import annotations

import snowballstemmer

from analyzers.chain import Chain
from analyzers.normalize import fold
from analyzers.stopwords import stopwords


def make() -> Chain:
    import simplemma  # here, not at import: a process that reads no Norwegian never loads it

    stemmer = snowballstemmer.stemmer("norwegian")

    def lemma(word: str) -> str:
        if word.isdigit():
            return word
        if simplemma.is_known(word, lang="nb"):
            return simplemma.lemmatize(word, lang="nb")
        # Genitive -s (menneskenes, byens) is not in the dictionary; the noun is.
        if word.endswith("s") and simplemma.is_known(word[:-1], lang="nb"):
            return simplemma.lemmatize(word[:-1], lang="nb")
        return stemmer.stemWord(word)

    return Chain(fold=fold, stem=lemma, stop=stopwords("no", fold))
