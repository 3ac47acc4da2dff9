"""Russian: lowercase, stress marks dropped, stopwords, pymorphy3 lemmas, ё→е.

The lemma is the one most of pymorphy3's parses agree on, weighted by their
scores, and a determiner's lemma wins over a pronoun's (``этого``→``этот``), as in
Universal Dependencies. Words pymorphy3's dictionary does not know (foreign names
such as ``Тхонглуну``) get its best suffix-based noun guess, which conflates their
case forms consistently. Words in other scripts are only folded.
"""

from __future__ import annotations

from functools import cache

import pymorphy3
from pymorphy3.units import DictionaryAnalyzer

from analyzers.chain import Chain
from analyzers.normalize import fold
from analyzers.stopwords import stopwords

_CYRILLIC = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя-")
_STRESS = dict.fromkeys(map(ord, "\u0300\u0301"))
_PRONOUN_LIKE = frozenset({"NPRO", "PRCL", "CONJ", "ADVB"})
_NAME_TAGS = frozenset({"Geox", "Name", "Surn", "Patr", "Orgn", "Trad", "Abbr"})


def fold_ru(word: str) -> str:
    """Fold case and stress marks; ё stays, since it tells pymorphy3 which word it is."""
    return fold(word).translate(_STRESS)


@cache
def morph() -> pymorphy3.MorphAnalyzer:
    """pymorphy3's analyzer, loaded once (its dictionaries take a third of a second)."""
    return pymorphy3.MorphAnalyzer(lang="ru", result_type=None)


def is_common_word(word: str) -> bool:
    """Whether pymorphy3's dictionary knows ``word`` as something other than a name."""
    parses = morph().parse(fold_ru(word))
    stack = parses[0][4]
    known = len(stack) == 1 and isinstance(stack[0][0], DictionaryAnalyzer)
    return known and not any(_NAME_TAGS & parse[1].grammemes for parse in parses[:1])


def make() -> Chain:
    morph_ = morph()

    def lemma(word: str) -> str:
        if not _CYRILLIC.issuperset(word):
            return word.replace("ё", "е")
        parses = morph_.parse(word)  # (word, tag, normal_form, score, methods_stack) tuples
        stack = parses[0][4]
        if len(stack) > 1 or not isinstance(stack[0][0], DictionaryAnalyzer):
            guess = next((p for p in parses if p[1].POS == "NOUN"), parses[0])
            return guess[2].replace("ё", "е")
        if parses[0][1].POS in _PRONOUN_LIKE:
            determiner = next((p for p in parses if "Apro" in p[1]), None)
            if determiner is not None:
                return determiner[2].replace("ё", "е")
        weights: dict[str, float] = {}
        for _, _, normal_form, score, _ in parses:
            weights[normal_form] = weights.get(normal_form, 0.0) + score
        return max(weights, key=weights.__getitem__).replace("ё", "е")

    stop = stopwords("ru", fold_ru)
    stop |= {word.replace("ё", "е") for word in stop}
    return Chain(fold=fold_ru, stem=lemma, stop=stop)
