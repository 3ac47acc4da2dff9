"""A language-neutral reading of names: ``АСЕАН``, ``ASEAN`` and ``آسيان`` share one key.

Words that look like names or acronyms (capitalized or all-caps in cased scripts, and
any Arabic or Devanagari word that is not a stopword, since they have no capitals) are reduced to
their base form, transliterated to Latin (Cyrillic and Greek by standard tables,
Arabic and Devanagari letter by letter) and folded to a consonant skeleton: the first letter, then
the consonants with vowels, ``w``/``y`` (which Arabic writes for vowels), ``h``
(digraphs and Arabic ح/ه) and doubled letters dropped, and letters that scripts
confuse merged (``p``→``b``, ``v``→``f``, ``c``/``q``→``k``). So ``ASEAN``,
``АСЕАН`` and ``آسيان`` all become ``asn``; ``Laos``, ``Лаоса`` and ``لاوس`` ``ls``.
Short keys collide, which is why searchlib only uses them as a weak, extra signal.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence, Set
from functools import lru_cache
from operator import itemgetter

from analyzers import arabic, dictionaries, russian
from analyzers.chain import WORD_CACHE_SIZE, Chain, resized_with_the_word_cache
from analyzers.registry import canonical, chain
from analyzers.stopwords import stopwords
from analyzers.token import Token
from analyzers.tokenizer import has_unspaced, word_end, words

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi",
    "є": "ye", "ґ": "g", "ђ": "dj", "ј": "j", "љ": "lj", "њ": "nj", "ћ": "c", "џ": "dz",
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "ў": "u",
}  # fmt: skip
_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i",
    "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s",
    "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}  # fmt: skip
_ARABIC = {
    "ا": "a", "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "h", "خ": "kh", "د": "d", "ذ": "dh",
    "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "",
    "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "و": "w",
    "ي": "y", "ء": "", "ؤ": "", "ئ": "y", "پ": "p", "چ": "ch", "ژ": "zh", "گ": "g", "ک": "k",
    "ی": "y",
}  # fmt: skip
_DEVANAGARI = {
    "अ": "a", "आ": "a", "इ": "i", "ई": "i", "उ": "u", "ऊ": "u", "ऋ": "ri", "ए": "e", "ऐ": "ai",
    "ओ": "o", "औ": "au", "क": "k", "ख": "kh", "ग": "g", "घ": "gh", "ङ": "n", "च": "ch", "छ": "chh",
    "ज": "j", "झ": "jh", "ञ": "n", "ट": "t", "ठ": "th", "ड": "d", "ढ": "dh", "ण": "n", "त": "t",
    "थ": "th", "द": "d", "ध": "dh", "न": "n", "प": "p", "फ": "f", "ब": "b", "भ": "bh", "म": "m",
    "य": "y", "र": "r", "ल": "l", "व": "v", "श": "sh", "ष": "sh", "स": "s", "ह": "h", "ा": "a",
    "ि": "i", "ी": "i", "ु": "u", "ू": "u", "ृ": "ri", "े": "e", "ै": "ai", "ो": "o", "ौ": "au",
    "ं": "n", "ँ": "n", "ः": "", "्": "", "़": "", "ॉ": "o", "ॅ": "e",
}  # fmt: skip
_LATIN_EXTRA = {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ł": "l", "ı": "i", "þ": "th"}
_TRANSLITERATION = str.maketrans({**_CYRILLIC, **_GREEK, **_ARABIC, **_DEVANAGARI, **_LATIN_EXTRA})
_MERGED = str.maketrans({"p": "b", "v": "f", "c": "k", "q": "k", "x": "ks"})
_NOT_LATIN = re.compile("[^a-z]+")
_SILENT = frozenset("aeiouywh")
# An initial j or y is a vowel glide in most transliterations: Jordan, Иордания and
# الأردن, Japan and Япония, Yemen, Йемен and اليمن each share a key.
_INITIAL_VOWELS = frozenset("aeiouyj")
# Arabic prefixes a name can carry: the article (with a conjunction or preposition), and
# a lone conjunction or preposition, which is ambiguous (ل in لاوس is the name's own).
_ARABIC_ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")
_ARABIC_PARTICLES = ("و", "ب", "ل", "ف", "ك")
MIN_KEY = 2


def transliterate(word: str) -> str:
    """A folded word in Latin letters (accents dropped)."""
    # Letters the tables know whole (й, ё) first; then accented ones (ή) by their base.
    latin = unicodedata.normalize("NFKD", word.translate(_TRANSLITERATION)).translate(_TRANSLITERATION)
    return _NOT_LATIN.sub("", latin)


def skeleton(latin: str) -> str:
    """The folded key of a transliterated name, as described above."""
    if not latin:
        return ""
    latin = latin.translate(_MERGED)
    first = "a" if latin[0] in _INITIAL_VOWELS else latin[0]
    key = [first]
    for ch in latin[1:]:
        if ch not in _SILENT and ch != key[-1]:
            key.append(ch)
    return "".join(key)


def name_tokens(text: str, lang: str | None, every_word: bool = False) -> list[Token]:
    """The name keys of ``text``, with offsets; ``every_word`` for queries typed in lowercase.

    An Arabic word whose first letter may be a particle gets a key with and without it.
    """
    key_lang = canonical(lang)
    tokens = []
    for position, (word, start, end, is_bigram) in enumerate(words(text)):
        if not is_bigram:
            tokens.extend(Token(key, position, start, end) for key in word_keys(word, key_lang, every_word))
    return tokens


def query_name_keys(
    text: str,
    langs: Sequence[str | None],
    lowercase: bool = False,
    keep: Callable[[str], bool] | None = None,
) -> list[str]:
    """The name keys a query's ``text`` offers, read in ``langs[0]`` (only those ``keep``
    keeps: an index's vocabulary, say).

    Capitalized words are names, as in documents. In a query typed all in lowercase
    (``lowercase``), a word is offered too unless a dictionary of one of ``langs``
    knows it as a common word: ``jordan`` may be the country, ``car`` and ``city`` are
    not names (in an index without English, ``car`` would otherwise find ``Кореи``).
    The dictionaries are asked last, of the words whose keys are kept: they cost most.
    """
    key_lang = canonical(langs[0] if langs else None)
    keys: list[str] = []
    for word, _, _, is_bigram in words(text):
        candidates = () if is_bigram else word_keys(word, key_lang, lowercase)
        if not candidates:  # a bigram, or a word that does not look like a name
            continue
        found = [key for key in candidates if keep is None or keep(key)]
        if found and not (lowercase and any(is_common_word(word, canonical(lang)) for lang in langs)):
            keys.extend(found)
    return list(dict.fromkeys(keys)) if keys else keys


def _is_common_word(word: str, key_lang: str) -> bool:
    """Whether ``word`` is a dictionary word of the language, not a name: pymorphy3 tags
    Russian names; simplemma's dictionaries keep names capitalized (``korea`` → ``Korea``)."""
    if key_lang == "ru":
        return russian.is_common_word(word)
    code = "nb" if key_lang == "no" else key_lang
    try:
        known = dictionaries.is_known(word, code)
        return known and not dictionaries.lemmatize(word, code)[:1].isupper()
    except (ValueError, KeyError, OSError):  # a language simplemma has no dictionary for
        return False


def _word_keys(word: str, key_lang: str, every_word: bool = False) -> tuple[str, ...]:
    """The name keys of one word (none if it does not look like a name) under an analyzer key.

    Cached: running text repeats its names.
    """
    first = word[0]
    if not first.isalpha() or not (every_word or first.isupper() or _uncased(first)):
        return ()  # what looks like a name: capitalized, or any word of a script without case
    language = chain(key_lang)
    # Arabic stopwords as the key's normalization spells them, whichever Arabic chain reads.
    forms = _base_forms(word, key_lang, language, stopwords("ar", arabic.normalize))
    keys = (skeleton(transliterate(base)) for base in forms)
    return tuple(key for key in keys if len(key) >= MIN_KEY)


# Cached: running text repeats its names. Callers look these up as ``names.word_keys``:
# resizing the caches replaces them.
is_common_word = lru_cache(maxsize=WORD_CACHE_SIZE)(_is_common_word)
word_keys = lru_cache(maxsize=WORD_CACHE_SIZE)(_word_keys)


def _resize(entries: int) -> None:
    global is_common_word, word_keys
    is_common_word = lru_cache(maxsize=entries)(_is_common_word)
    word_keys = lru_cache(maxsize=entries)(_word_keys)


resized_with_the_word_cache(_resize)


_UNCASED = re.compile("[\u0600-\u06ff\u0900-\u097f]")  # Arabic and Devanagari: no capitals


def _uncased(letter: str) -> bool:
    """Arabic and Devanagari have no capitals: any word of theirs may be a name."""
    return _UNCASED.match(letter) is not None


def names_at(text: str, starts: Sequence[int], key_lang: str, wanted: Set[str]) -> list[int] | None:
    """The positions, among the words of ``text`` that start at ``starts`` (an index keeps
    them), of those whose name keys meet ``wanted``. Only the words that may be names
    (capitalized) are read, each from its start. None where a word starts with an uncased
    letter (any Arabic or Devanagari word may be a name: reading them all at once is
    cheaper) or a start is no word's."""
    if not starts:
        return []
    if max(starts) >= len(text):  # starts that do not fit the text (a damaged or crafted file)
        return None
    # one letter a word (itemgetter of a single index gives the letter itself, not a tuple)
    firsts = text[starts[0]] if len(starts) == 1 else "".join(itemgetter(*starts)(text))
    if _UNCASED.search(firsts) is not None:
        return None
    spaced = not has_unspaced(text)
    letters = {key[0] for key in wanted}
    found = []
    for position in itertools.compress(range(len(starts)), map(str.isupper, firsts)):
        letter = _key_letter(firsts[position], key_lang)
        if letter is not None and letter not in letters:  # its keys start with another letter
            continue
        start = starts[position]
        end = word_end(text, start, spaced)
        if end is None:
            return None
        if not wanted.isdisjoint(word_keys(text[start:end], key_lang)):
            found.append(position)
    return found


@lru_cache(maxsize=4096)
def _key_letter(capital: str, key_lang: str) -> str | None:
    """The letter every name key of a word starting with ``capital`` starts with (the
    skeleton's first, from the word's first letter); None if it may vary: a Russian word's
    key is its lemma's, an Arabic one's may lose an article, and a letter transliterated to
    nothing leaves the first to the next. A snippet of a body found through its names
    reads only the capitalized words whose keys may meet the query's: a first sight of a
    word's keys costs microseconds, and a body has dozens of capitalized words."""
    if "\u0600" <= capital <= "\u06ff" or _uncased(capital):
        return None
    folded = chain(key_lang).fold(capital)
    if not folded or (key_lang == "ru" and "а" <= folded[0] <= "я"):
        return None
    latin = transliterate(folded).translate(_MERGED)
    if not latin:
        return None
    return "a" if latin[0] in _INITIAL_VOWELS else latin[0]


def name_candidates(words: list[str]) -> list[str]:
    """The words (non-empty) that :func:`word_keys` may give keys as names (not
    ``every_word``): those that start with a capital or an uncased letter. A snippet asks it
    of every word of a body; without uncased letters, they are picked in C."""
    firsts = "".join(map(itemgetter(0), words))
    if _UNCASED.search(firsts) is None:
        return list(itertools.compress(words, map(str.isupper, firsts)))
    return [word for word, first in zip(words, firsts, strict=True) if first.isupper() or _uncased(first)]


def _base_forms(word: str, key_lang: str, language: Chain, arabic_stop: frozenset[str]) -> list[str]:
    if "\u0600" <= word[0] <= "\u06ff":
        normalized = arabic.normalize(word)
        if normalized in arabic_stop:
            return []
        for article in _ARABIC_ARTICLES:
            if normalized.startswith(article) and len(normalized) - len(article) >= 3:
                return [normalized[len(article) :]]
        if normalized.startswith(_ARABIC_PARTICLES) and len(normalized) >= 4:
            return [normalized, normalized[1:]]
        return [normalized]
    folded = language.fold(word)
    if not folded or folded in language.stop or (_uncased(word[0]) and folded in chain("hi").stop):
        return []
    if key_lang == "ru" and "а" <= folded[0] <= "я":
        lemma = language.term(word)  # the lemma (cached): Лаосом and Лаос share a key
        return [lemma] if lemma else []
    return [folded]
