"""Russian: lowercase, ё→е, stress marks dropped, stopwords, pymorphy3 lemmas.

Participles and gerunds go to their verb's infinitive, as in Universal Dependencies
(``связанного``→``связать``). Words pymorphy3's dictionary does not know (foreign
names such as ``Тхонглуну``) get its suffix-based guess, which conflates their case
forms consistently. Words in other scripts are only folded.
"""

from __future__ import annotations

import pymorphy3

from analyzers.chain import Chain
from analyzers.normalize import fold
from analyzers.stopwords import stopwords

_CYRILLIC = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя-")
_STRESS = dict.fromkeys(map(ord, "\u0300\u0301"))
_TO_INFINITIVE = frozenset({"PRTF", "PRTS", "GRND"})
_PRONOUN_LIKE = frozenset({"NPRO", "PRCL", "CONJ", "ADVB"})


def fold_ru(word: str) -> str:
    """Fold case and stress marks; ё stays, since it tells pymorphy3 which word it is."""
    return fold(word).translate(_STRESS)


def make() -> Chain:
    morph = pymorphy3.MorphAnalyzer(lang="ru")
    infinitive = frozenset({"INFN"})

    def lemma(word: str) -> str:
        if not _CYRILLIC.issuperset(word):
            return word.replace("ё", "е")
        parses = morph.parse(word)
        if not morph.word_is_known(word):
            # Guesses from suffixes; unknown words are mostly names, so a noun
            # reading is preferred, which keeps their case forms together.
            guess = next((p for p in parses if p.tag.POS == "NOUN"), parses[0])
            return guess.normal_form.replace("ё", "е")
        determiner = next((p for p in parses if "Apro" in p.tag), None)
        if determiner is not None and parses[0].tag.POS in _PRONOUN_LIKE:
            return determiner.normal_form.replace("ё", "е")
        weights: dict[str, float] = {}
        for parse in parses:
            lemma = parse.normal_form
            if parse.tag.POS in _TO_INFINITIVE:
                verb = parse.inflect(infinitive)
                lemma = verb.word if verb is not None else lemma
            weights[lemma] = weights.get(lemma, 0.0) + parse.score
        return max(weights, key=weights.__getitem__).replace("ё", "е")

    stop = stopwords("ru", fold_ru)
    stop |= {word.replace("ё", "е") for word in stop}
    return Chain(fold=fold_ru, stem=lemma, stop=stop)
