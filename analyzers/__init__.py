"""Language analysis for searchlib: text in, index terms with offsets out.

Importable on its own: nothing here knows about Whoosh.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

from analyzers import names as _names
from analyzers.chain import (
    Chain,
    clear_word_caches,
    numbered_chain,
    resized_with_the_word_cache,
    set_word_cache_size,
)
from analyzers.detect import detect_language
from analyzers.registry import (
    DESCRIPTIONS,
    GENERIC,
    VERSIONS,
    canonical,
    chain,
    known_version,
    languages,
    using_versions,
)
from analyzers.token import Token
from analyzers.tokenizer import (
    SHORT_CHARS,
    run_ends,
    segments,
    spaced_words,
    spaced_words_and_starts,
    word_ends_of,
    word_spans,
    words,
)

__all__ = [
    "DESCRIPTIONS",
    "VERSIONS",
    "Chain",
    "Token",
    "analyze",
    "canonical",
    "chain",
    "clear_word_caches",
    "detect_language",
    "index_terms",
    "index_terms_and_starts",
    "known_version",
    "languages",
    "set_word_cache_size",
    "using_versions",
    "words",
]


def analyze(text: str, lang: str | None) -> list[Token]:
    """Terms of ``text`` under the analyzer of ``lang`` (unknown codes: generic)."""
    words_chain, bigrams_chain = chain(canonical(lang)), chain(GENERIC)
    if len(text) <= SHORT_CHARS:
        return list(_short_analyzed(text, words_chain.number, bigrams_chain.number))
    return _analyzed(words(text), words_chain, bigrams_chain)


@lru_cache(maxsize=1 << 14)
def _short_analyzed(text: str, words_chain: int, bigrams_chain: int) -> tuple[Token, ...]:
    """A short text's tokens under the chains of these numbers (each version of a chain has
    its own): a query's words recur, within a search and across searches."""
    return tuple(_analyzed(words(text), numbered_chain(words_chain), numbered_chain(bigrams_chain)))


resized_with_the_word_cache(lambda _: _short_analyzed.cache_clear())


def _analyzed(found: Iterable[tuple[str, int, int, bool]], words_of: Chain, bigrams_of: Chain) -> list[Token]:
    term, bigram = words_of.term, bigrams_of.term
    tokens = []
    for position, (word, start, end, is_bigram) in enumerate(found):
        value = bigram(word) if is_bigram else term(word)
        if value:
            tokens.append(Token(value, position, start, end))
    return tokens


PIECE_CHARS = 1 << 18  # a longer text is analyzed a piece at a time


def index_terms(text: str, lang: str | None) -> tuple[dict[str, Sequence[int]], Counter[str]]:
    """What indexing needs of ``text``, in one pass: each term's positions, as :func:`analyze`
    gives them, and how often each name key of :func:`analyzers.names.name_tokens` occurs.

    A text longer than :data:`PIECE_CHARS` is analyzed in pieces cut at white space, its
    positions kept in arrays: a 20 MB document needs a few times its size, not twenty
    (its words as a list of strings, its positions as a list of integers).
    """
    if len(text) > PIECE_CHARS:
        return _index_terms_in_pieces(text, lang)
    positions, names, _ = _index_terms(text, lang)
    return positions, names


def index_terms_and_starts(
    text: str, lang: str | None
) -> tuple[dict[str, Sequence[int]], Counter[str], list[int], list[int]]:
    """:func:`index_terms`, and where each word it numbers starts and ends
    (:func:`tokenizer.word_spans`): a text without unspaced scripts is cut into words once
    for both."""
    if len(text) > PIECE_CHARS:
        return *index_terms(text, lang), *word_spans(text)
    found = spaced_words_and_starts(text)
    if found is None:  # bigrams
        made, starts = segments(text)
        positions, names, _ = _index_terms_with_bigrams(made, canonical(lang))
        return positions, names, starts, run_ends(made, starts)
    spaced, starts = found
    positions, names, _ = _index_terms(text, lang, spaced)
    return positions, names, starts, word_ends_of(starts, spaced)


def _index_terms_in_pieces(text: str, lang: str | None) -> tuple[dict[str, Sequence[int]], Counter[str]]:
    positions: defaultdict[str, array[int]] = defaultdict(lambda: array("I"))
    names: Counter[str] = Counter()
    offset = start = 0
    while start < len(text):
        end = _piece_end(text, start)
        piece_positions, piece_names, count = _index_terms(text[start:end], lang)
        for term, found in piece_positions.items():
            positions[term].extend(offset + position for position in found)
        names.update(piece_names)
        offset += count
        start = end
    return positions, names


def _piece_end(text: str, start: int) -> int:
    """Where the piece of ``text`` from ``start`` ends: at white space near PIECE_CHARS on."""
    end = start + PIECE_CHARS
    if end >= len(text):
        return len(text)
    space = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
    return space + 1 if space > start else end


def _index_terms(
    text: str, lang: str | None, spaced: list[str] | None = None
) -> tuple[dict[str, list[int]], Counter[str], int]:
    """Each term's positions, the name keys' counts, and how many positions there were;
    ``spaced``: the text's :func:`spaced_words`, if found already."""
    key = canonical(lang)
    words = spaced if spaced is not None else spaced_words(text)
    if words is None:
        return _index_terms_with_bigrams(segments(text)[0], key)
    # Text without bigrams, the usual case: the same, each word's term looked up from C (Chain.terms).
    positions: defaultdict[str, list[int]] = defaultdict(list)
    for position, value in enumerate(chain(key).terms(words)):
        if value:
            positions[value].append(position)
    names: Counter[str] = Counter()
    counts = Counter(words)
    # Only words that may be names are looked up (picked in C; 61% of the distinct words
    # of XQuAD's paragraphs without bigrams start with a small letter).
    for word in _names.name_candidates(list(counts)):
        for name in _names.word_keys(word, key):
            names[name] += counts[word]
    return positions, names, len(words)


def _index_terms_with_bigrams(
    made: list[tuple[bool, list[str]]], key: str
) -> tuple[dict[str, list[int]], Counter[str], int]:
    """:func:`_index_terms` of text with bigrams, given its :func:`tokenizer.segments`:
    words take the language's terms and name keys, bigrams the generic chain's terms."""
    words, bigrams = chain(key), chain(GENERIC)
    values: list[str | None] = []
    names: Counter[str] = Counter()
    for are_bigrams, tokens in made:
        if are_bigrams:
            values += bigrams.terms(tokens)
            continue
        values += words.terms(tokens)
        for word in _names.name_candidates(tokens):
            names.update(_names.word_keys(word, key))
    positions: defaultdict[str, list[int]] = defaultdict(list)
    for position, value in enumerate(values):
        if value:
            positions[value].append(position)
    return positions, names, len(values)
