"""An Arabic word's lemma: every way to cut it into clitics, affixes and a stem the lexicon knows.

A written Arabic word carries its conjunction (و, ف), preposition (ب, ك, ل), article
(ال), future particle (س) and pronoun (ه, ها, هم, ...) with it: والوزراء, سيكتبونها.
Each segmentation whose stem :mod:`analyzers.arabic_lexicon` knows is a reading, scored
by the letters it takes off (a conjunction's letter costs more: وزير is "minister", never
و + زير) against how frequent its lemma is (السنة is ال + سنة "year", not the rare plural
of لسان). A function word under clitics (لديهم, بأنه, وهو) and any form of a stopword verb
(تكن, كنت of كان) read as a stopword: nothing to index. A word with no reading, or only
implausible ones (an unknown name taken for clitics on a rare stem), gets None: the
caller falls back to a light stemmer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache

from analyzers.arabic_lexicon import Lexicon, lexicon, spelling
from analyzers.chain import WORD_CACHE_SIZE, resized_with_the_word_cache
from analyzers.stopwords import stopwords

CONJUNCTIONS = ("و", "ف")
PREPOSITIONS = ("ب", "ك", "ل")
VERB_PARTICLES = ("س", "ل")  # سيكتب "will write", ليكتب "so that he writes"
PRONOUNS = frozenset(("ه", "ها", "هم", "هن", "هما", "كم", "كن", "كما", "نا", "ني", "ك"))
PAST_ENDINGS = frozenset(("ت", "تا", "نا", "تم", "تن", "تما", "وا", "و", "ا", "ن", "تمو"))
PRESENT_PREFIXES = frozenset("يتنا")
PRESENT_ENDINGS = frozenset(("ون", "ان", "ين", "وا", "و", "ن", "ا"))
# Noun endings and what replaces each to give the singular: ات makes plurals of ة nouns too.
NOUN_ENDINGS = {"ات": ("", "ة"), "ون": ("",), "ين": ("",), "ان": ("",), "تان": ("ة",), "تين": ("ة",)}
NISBA_ENDINGS = frozenset(("ي", "ية", "يون", "يين", "يات", "يان", "يتان", "يتين"))
ACCUSATIVE = "ا"  # the alif of tanwin: عدداً

Reading = tuple[float, str, bool]  # cost (lower is likelier), lemma, whether letters came off the front
STOPWORD = ""  # the lemma of a function word: nothing to index
STOPWORD_VERBS = frozenset({"كان"})  # the stopword list has some of its forms: it gets them all
# Tuned on ar_pud-dev (benchmarks/analyzer_quality.py): what a letter taken off costs, in
# units of log frequency, and the most a reading may cost before the light stemmer is likelier.
# A reading that takes letters off the front must be likelier still: names the dictionary does
# not know (فيتنام, كندا, بوتين) read as clitics on rare words (ف + يتنام "and he grows").
AFFIX_COST = 2.0
CONJUNCTION_COST = 3.0
MOST_COST = 2.0
MOST_COST_FRONT = -6.0


def lemma(word: str) -> str | None:
    """The lemma of ``word`` (spelled as :func:`arabic_lexicon.spelling` spells it), ""
    for a function word under clitics, None if the lexicon knows no likely reading."""
    likely = (r for r in readings(word) if r[0] <= (MOST_COST_FRONT if r[2] else MOST_COST))
    best = min(likely, default=None)
    return None if best is None else best[1]


def readings(word: str) -> Iterator[Reading]:
    """Every reading of ``word``: its conjunction and pronoun cut off in every way, then
    whatever the rest can be (worked out once per rest: many words share it). A final ه
    may also be a ة typed without its dots (مشاوره for مشاورة), as people often type it."""
    yield from _readings(word, 0.0)
    if word.endswith("ه"):
        yield from _readings(word[:-1] + "ة", AFFIX_COST / 2)


def _readings(word: str, extra: float) -> Iterator[Reading]:
    for conjunction, rest in _cut_front(word, CONJUNCTIONS):
        for core, pronoun in _cut_end(rest, PRONOUNS, 3):
            clitics = extra + CONJUNCTION_COST * len(conjunction) + AFFIX_COST * len(pronoun)
            for cost, lemma, front in _core_readings(core, bool(pronoun)):
                yield clitics + cost, lemma, front or bool(conjunction)


def _readings_of_core(core: str, has_pronoun: bool) -> tuple[Reading, ...]:
    """The readings of a word without its conjunction and pronoun: a noun under a
    preposition and an article, or a verb after a particle."""
    lex = lexicon()
    stop = stopwords("ar", spelling)
    found: list[Reading] = []
    for front, stem in _noun_fronts(core, has_pronoun):
        if stem in stop:
            found.append((AFFIX_COST * front - _log(lex.noun_frequency, stem), STOPWORD, front > 0))
        for lemma, end in _noun_lemmas(stem, lex, has_pronoun):
            found.append((AFFIX_COST * (front + end) - _log(lex.noun_frequency, lemma), lemma, front > 0))
    for particle, form in _cut_front(core, VERB_PARTICLES):
        for lemma, affixes, prefixed in _verb_lemmas(form, lex):
            cost = AFFIX_COST * (len(particle) + affixes) - _log(lex.verb_frequency, lemma)
            found.append((cost, STOPWORD if lemma in STOPWORD_VERBS else lemma, prefixed or bool(particle)))
    return tuple(found)


_core_readings = lru_cache(maxsize=WORD_CACHE_SIZE)(_readings_of_core)


def _resize(entries: int) -> None:
    global _core_readings
    _core_readings = lru_cache(maxsize=entries)(_readings_of_core)


resized_with_the_word_cache(_resize)  # sized and emptied with the word cache


def _cut_front(word: str, clitics: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """``word`` whole, then without each one-letter clitic it starts with."""
    yield "", word
    if word[:1] in clitics and len(word) > 2:
        yield word[0], word[1:]


def _cut_end(word: str, endings: frozenset[str], longest: int) -> Iterator[tuple[str, str]]:
    """``word`` whole, then without each of ``endings`` it ends with, leaving two letters or more."""
    yield word, ""
    for length in range(1, min(longest, len(word) - 2) + 1):
        if word[-length:] in endings:
            yield word[:-length], word[-length:]


def _log(frequency: dict[str, int], lemma: str) -> float:
    return math.log1p(frequency.get(lemma, 0))


def _noun_fronts(core: str, has_pronoun: bool) -> Iterator[tuple[int, str]]:
    """The stems under a preposition and an article (never both article and pronoun)."""
    for preposition, stem in _cut_front(core, PREPOSITIONS):
        yield len(preposition), stem
        if has_pronoun or len(stem) < 4:
            continue
        if stem.startswith("ال"):
            yield len(preposition) + 2, stem[2:]
        elif preposition == "ل" and stem[0] == "ل":  # لل = ل + ال: للسلطة
            yield 2, stem[1:]


def _noun_lemmas(stem: str, lex: Lexicon, has_pronoun: bool) -> Iterator[tuple[str, float]]:
    """(lemma, letters of endings taken off) of a noun stem."""
    nouns = lex.nouns
    if stem in nouns:
        yield nouns[stem], 0
    last, before = stem[-1], stem[:-1]
    if last == "ت" and has_pronoun and before + "ة" in nouns:  # عمليته: ة written ت before a pronoun
        yield nouns[before + "ة"], 0.5  # a guess about the spelling costs half a letter
    elif last == "ة" and before in lex.feminine:  # جديدة → جديد
        yield before, 1
    elif last == ACCUSATIVE and before in nouns:
        yield nouns[before], 1
    for base, ending in _cut_end(stem, NOUN_ENDINGS.keys(), 3):
        for singular in NOUN_ENDINGS.get(ending, ()):
            if base + singular in nouns:
                yield nouns[base + singular], len(ending)
    for base, ending in _cut_end(stem, NISBA_ENDINGS, 4):  # رقمي, الأمريكية: nisba of a known noun
        if ending and len(base) >= 3 and base in nouns:
            yield base + "ي", len(ending) - 1


def _verb_lemmas(form: str, lex: Lexicon) -> Iterator[tuple[str, int, bool]]:
    """(lemma, letters of person affixes taken off, whether a prefix was) of a verb form."""
    for stem, ending in _cut_end(form, PAST_ENDINGS, 3):
        if stem in lex.past:
            yield lex.past[stem], len(ending), False
        if ending and stem in lex.past_bound:  # قلت: قال, beside كنت: كنّ and كان
            yield lex.past_bound[stem], len(ending), False
    if form[0] in PRESENT_PREFIXES:
        for stem, ending in _cut_end(form[1:], PRESENT_ENDINGS, 2):
            if stem in lex.present:
                yield lex.present[stem], 1 + len(ending), True
