"""Language analysis for searchlib: text in, index terms with offsets out.

Importable on its own: nothing here knows about Whoosh.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from analyzers.chain import Chain
from analyzers.detect import detect_language
from analyzers.names import word_keys
from analyzers.registry import GENERIC, canonical, chain, languages
from analyzers.token import Token
from analyzers.tokenizer import pairs, runs, spaced_words, words

__all__ = [
    "Chain",
    "Token",
    "analyze",
    "canonical",
    "chain",
    "detect_language",
    "index_terms",
    "languages",
    "words",
]


def analyze(text: str, lang: str | None) -> list[Token]:
    """Terms of ``text`` under the analyzer of ``lang`` (unknown codes: generic)."""
    term = chain(canonical(lang)).term
    bigram = chain(GENERIC).term
    tokens = []
    for position, (word, start, end, is_bigram) in enumerate(words(text)):
        value = bigram(word) if is_bigram else term(word)
        if value:
            tokens.append(Token(value, position, start, end))
    return tokens


def index_terms(text: str, lang: str | None) -> tuple[dict[str, list[int]], Counter[str]]:
    """What indexing needs of ``text``, in one pass: each term's positions, as :func:`analyze`
    gives them, and how often each name key of :func:`analyzers.names.name_tokens` occurs."""
    key = canonical(lang)
    words = spaced_words(text)
    if words is None:
        return _index_terms_with_bigrams(runs(text), key)
    # Text without bigrams, the usual case: the same, with the per-word calls made by map().
    positions: defaultdict[str, list[int]] = defaultdict(list)
    for position, value in enumerate(map(chain(key).term, words)):
        if value:
            positions[value].append(position)
    names: Counter[str] = Counter()
    for word, count in Counter(words).items():
        for name in word_keys(word, key):
            names[name] += count
    return positions, names


def _index_terms_with_bigrams(
    matches: list[tuple[str, str]], key: str
) -> tuple[dict[str, list[int]], Counter[str]]:
    term = chain(key).term
    bigram = chain(GENERIC).term
    positions: defaultdict[str, list[int]] = defaultdict(list)
    names: Counter[str] = Counter()
    position = 0
    for unspaced, word in matches:
        if word:
            value = term(word)
            if value:
                positions[value].append(position)
            names.update(word_keys(word, key))
            position += 1
        else:
            for pair in pairs(unspaced):
                value = bigram(pair)
                if value:
                    positions[value].append(position)
                position += 1
    return positions, names
