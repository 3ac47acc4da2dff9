"""Arabic nouns and verbs from arramooz, the dictionary qalsadi analyzes with, as lookup tables.

arramooz (``arramooz-pysqlite`` on PyPI, offline) lists 30,000 nouns with their broken
plurals and which suffixes they take, and 14,000 verbs with their root and the vowel of
their present tense. Read once into dictionaries, it answers "which lemma has this stem?"
in a lookup: qalsadi asks the same dictionary through SQL and conjugates every candidate
verb, about 2 ms a word. Verb stems are derived here by the rules of Arabic's verb classes
(sound, doubled, hollow, defective, assimilated; derived forms), so that يقول, قالت, قلت and
قيل all find قال.

Keys and lemmas are spelled as :func:`spelling` spells them: no diacritics, hamza seats
folded to ا, ى to ي, but ة kept — it tells a feminine ending from the pronoun ه.

Building the tables takes about a third of a second, most of it reading the 15 MB
dictionary; they are kept as JSON in an entry of :mod:`analyzers.cache`, named after this
module and the dictionary's files, so the next process loads them in a few hundredths.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import attrs
from pyarabic import araby

from analyzers import cache
from analyzers.normalize import fold

# One pass: diacritics (pyarabic's TASHKEEL) and tatweel out, hamza seats to ا, ى to ي.
_SPELLING = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", **dict.fromkeys([*araby.TASHKEEL, araby.TATWEEL])}
)
BROKEN_PLURAL = "جمع تكسير"
VOWEL_OF_PRESENT = {"ضمة": "و", "كسرة": "ي", "فتحة": "ا"}  # يقول, يسير, ينام
WEAK = "وي"
# Verbs arramooz keeps among its stopwords, not its verbs: (past, root, vowel of the present, form I).
MISSING_VERBS = (("كان", "كون", "ضمة", 1),)


def spelling(word: str) -> str:
    """An Arabic word as lexicon keys are spelled (see the module's docstring)."""
    return fold(word).translate(_SPELLING)


@attrs.frozen
class Lexicon:
    """Stems to lemmas: ``nouns`` holds singulars (their own lemma) and broken plurals
    (their singular's); ``past`` and ``present`` hold the stems a verb's conjugations are
    built on."""

    nouns: dict[str, str]
    feminine: frozenset[str]  # takes ة: جديد → جديدة
    past: dict[str, str]  # stems that stand alone or take a suffix: كتب, قال
    past_bound: dict[str, str]  # stems that only take a suffix: قل (قلت), رم (رمت)
    present: dict[str, str]  # stems after ي / ت / ن / ا: كتب, قول
    noun_frequency: dict[str, int]  # how often a lemma occurs in arramooz's corpus, to rank readings
    verb_frequency: dict[str, int]


def _dictionary_file(name: str) -> Path:
    return Path(str(resources.files("arramooz").joinpath("data", name)))


def _database(name: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{_dictionary_file(name)}?mode=ro", uri=True)


@functools.cache
def lexicon() -> Lexicon:
    """The tables: from the cache directory if a process built them before, else built."""
    sources = (
        Path(__file__),
        _dictionary_file("arabicdictionary.sqlite"),
        _dictionary_file("wordfreq.sqlite"),
    )
    return cache.load_or_make(
        cache.entry("arabic-lexicon", *sources, suffix=".json"), _read, build_lexicon, _save
    )


def _save(built: Lexicon, path: Path) -> None:
    fields = {**attrs.asdict(built), "feminine": sorted(built.feminine)}  # JSON has no sets
    path.write_text(json.dumps(fields, ensure_ascii=False), encoding="utf-8")


def _read(path: Path) -> Lexicon:
    return _from_json(json.loads(path.read_text(encoding="utf-8")))


def _from_json(saved: dict) -> Lexicon:
    tables = {name: saved[name] for name in attrs.fields_dict(Lexicon) if name != "feminine"}
    if not all(isinstance(table, dict) for table in tables.values()) or not isinstance(
        saved["feminine"], list
    ):
        raise TypeError("the saved lexicon's tables are not tables")
    return Lexicon(**tables, feminine=frozenset(saved["feminine"]))


def _without_article(word: str) -> str:
    return word[2:] if word.startswith("ال") and len(word) > 4 else word


def build_lexicon() -> Lexicon:
    """The tables, built from arramooz's two databases."""
    with _database("wordfreq.sqlite") as db:
        words, kinds, counts = _columns(db, "SELECT unvocalized, word_type, freq FROM wordfreq", 3)
    noun_frequency: dict[str, int] = {}
    verb_frequency: dict[str, int] = {}
    for word, kind, count in zip(_spelled(words), kinds, counts, strict=True):
        frequency = verb_frequency if kind == "verb" else noun_frequency
        if count > frequency.get(word, 0):
            frequency[word] = count
    with _database("arabicdictionary.sqlite") as db:
        noun_rows = _columns(db, "SELECT unvocalized, number, single, broken_plural, feminable FROM nouns", 5)
        verb_rows = _columns(
            db, "SELECT unvocalized, root, future_type, triliteral FROM verbs", 4, MISSING_VERBS
        )
    nouns, feminine = _nouns(*noun_rows)
    past: dict[str, str] = {}
    past_bound: dict[str, str] = {}
    present: dict[str, str] = {}
    verbs, roots, vowels, triliteral = verb_rows
    # Where two verbs share a stem, the more frequent one has it: يرى is رأى's, not ورى's.
    order = sorted(
        zip(_spelled(verbs), _spelled(roots), vowels, triliteral, strict=True),
        key=lambda row: (-verb_frequency.get(row[0], 0), -row[3]),
    )
    for lemma, root, vowel, form_one in order:
        stems = verb_stems(lemma, root, vowel, bool(form_one))
        _add(past, stems.past, lemma)
        _add(past_bound, stems.past_bound, lemma)
        _add(present, stems.present, lemma)
    return Lexicon(nouns, feminine, past, past_bound, present, noun_frequency, verb_frequency)


def _columns(db: sqlite3.Connection, query: str, width: int, more: Iterable[tuple] = ()) -> list[list]:
    """The columns of a query's rows, and of ``more`` rows."""
    rows = db.execute(query).fetchall() + list(more)
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _spelled(entries: list[str | None]) -> list[str]:
    """:func:`spelling` of many dictionary entries at once (they need no Unicode folding):
    one ``translate`` over them all is several times faster than one per entry."""
    return "\0".join(entry or "" for entry in entries).translate(_SPELLING).split("\0")


def _nouns(
    words: list[str], numbers: list[str], singles: list[str], broken: list[str], feminable: list[int]
) -> tuple[dict[str, str], frozenset[str]]:
    """Singulars and broken plurals to their lemma, and the singulars that take ة."""
    singulars: set[str] = set()
    feminine: set[str] = set()
    plurals: dict[str, str] = {}
    listed: dict[str, str] = {}  # plurals a singular lists: better data than a plural's "single"
    for word, number, single, plural_list, takes_teh in zip(
        _spelled(words), numbers, _spelled(singles), _spelled(broken), feminable, strict=True
    ):
        if number == BROKEN_PLURAL:
            if single:
                plurals.setdefault(word, single)
            continue
        singulars.add(word)
        if takes_teh:
            feminine.add(word)
        for plural in filter(None, plural_list.split(";")):
            listed.setdefault(_without_article(plural), word)
    nouns = {**plurals, **listed}
    nouns.update((word, word) for word in singulars)  # a singular is its own lemma
    return nouns, frozenset(feminine)


def _add(table: dict[str, str], stems: Iterable[str], lemma: str) -> None:
    for stem in stems:
        if len(stem) >= 2:
            table.setdefault(stem, lemma)


@attrs.define
class VerbStems:
    past: set[str]
    past_bound: set[str]
    present: set[str]


def verb_stems(verb: str, root: str, future_type: str, triliteral: bool) -> VerbStems:
    """The stems of ``verb`` (its past, third person masculine singular) that its past and
    present conjugations attach their person affixes to: كتب → كتب, يكتب; قال → قالت, قلت,
    قيل, يقول, يقل; وصل → يصل; رمي → رمت, رميت, يرمي, يرمون; استطاع → استطعت, يستطيع."""
    stems = VerbStems({verb}, set(), set())
    if triliteral and len(root) == 3:
        _form_one(stems, verb, root, future_type)
    elif verb.startswith("ا") and len(verb) >= 4:  # أفعل, انفعل, افتعل, استفعل: يفعل, ينفعل, ...
        base = verb[1:]
        stems.present.add(base)
        if verb[-2] == "ا":  # hollow: أراد يريد أردت; اختار يختار اخترت
            stems.present.add(base[:-2] + "ي" + base[-1])
            stems.past_bound.add(verb[:-2] + verb[-1])
        elif verb[-1] in "اي":  # defective: اشترى يشتري اشترت يشترون
            stems.present.add(base[:-1])
            stems.past_bound.add(verb[:-1])
    else:  # فعّل, فاعل, تفعّل, تفاعل, فعلل: يفعّل, ...
        stems.present.add(verb)
        if verb[-1] in "اي":  # سمّى يسمي سمت يسمون
            stems.present.add(verb[:-1])
            stems.past_bound.add(verb[:-1])
    return stems


def _form_one(stems: VerbStems, verb: str, root: str, future_type: str) -> None:
    first, middle, last = root
    if middle == last and len(verb) == 2:  # doubled: عد, عددت, يعد
        stems.past_bound.add(first + middle + last)
        stems.present |= {verb, first + middle + last}
    elif middle in WEAK and len(verb) == 3 and verb[1] == "ا":  # hollow: قال, قلت, قيل, يقول, يقل
        stems.past.add(first + "ي" + last)
        stems.past_bound.add(first + last)
        stems.present |= {first + VOWEL_OF_PRESENT.get(future_type, middle) + last, first + last, verb}
    elif last in WEAK and verb[-1] in "اي":  # defective: رمي, رمت, رميت, دعوت, يرمي, يدعو, يرمون
        base = verb[:-1]
        stems.past.add(base + "ي")
        stems.past_bound |= {base, base + "و"}
        stems.present |= {base, base + "ي", base + "و", base + "ا"}
        if middle == "ء":  # رأى: يرى, ترون
            stems.present |= {first, first + "ي"}
    else:
        stems.present.add(verb)
    if first == "و":  # assimilated: وصل, يصل
        stems.present |= {stem[1:] for stem in stems.present if stem.startswith("و")}
