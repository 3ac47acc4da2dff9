"""From a parsed query to what each of its words means in each language of the index.

Each free-text leaf of the query (:mod:`searchlib.syntax`) is read once per candidate
language with that language's analyzer. A reading reaches only documents of its own
language (their fields), and is weighted by how likely the query is in that language,
so readings in other languages do not add up into noise: an English question read as
German meets German documents' statistics, where English function words are rare and
would score high. A leaf's readings, and its cross-script name keys for documents in
the languages it is *not* read in, are what :mod:`searchlib.matching` scores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import attrs
from whoosh import query as q

import analyzers
from analyzers.names import query_name_keys
from searchlib import syntax
from searchlib.fields import text_field
from searchlib.ranking import DEFAULT_RANKING, Ranking
from searchlib.schema import NAMES, body_field, title_field
from searchlib.syntax import QueryError

MAX_QUERY_WORDS = 1024
COMMON_WORDS_FALLBACK = "en"

__all__ = ["MAX_QUERY_WORDS", "QueryError", "Reader", "Reading", "Term", "language_weights", "parse"]


def parse(text: str, fields: Mapping[str, str] = syntax.BUILTIN_KINDS) -> syntax.Node | None:
    """The user's query as a tree of words, operators and filters (no language yet);
    ``fields`` are the index's fields with their kinds (:func:`searchlib.syntax.parse`)."""
    if not isinstance(text, str):
        raise QueryError(f"the query must be text, not {type(text).__name__}")
    if len(text.split()) > MAX_QUERY_WORDS:
        raise QueryError(f"the query has more than {MAX_QUERY_WORDS} words")
    return syntax.parse(text, fields)


def query_words(node: syntax.Node | None) -> str:
    """Every word the query holds (negated ones too), for language identification."""
    if (alternatives := syntax.plain_alternatives(node)) is not None:
        return " ".join([item.text for item in alternatives if item.text])
    if node is None or isinstance(node, syntax.FILTERS):
        return ""
    if isinstance(node, syntax.Words):
        return node.text
    if isinstance(node, syntax.Not):
        return query_words(node.item)
    if isinstance(node, syntax.Maybe):
        return f"{query_words(node.required)} {query_words(node.optional)}".strip()
    return " ".join(filter(None, (query_words(item) for item in node.items)))


def language_weights(
    node: syntax.Node | None,
    index_languages: Iterable[str],
    lang: str | None = None,
    ranking: Ranking = DEFAULT_RANKING,
    words: str | None = None,
) -> dict[str, float]:
    """Weight per analyzer key for reading the query, from its likely languages.

    With ``lang`` given, only that language is read. Otherwise the query's words
    (``words``, if its caller has them: :func:`query_words`) are identified among the
    languages the index holds (script first), and each candidate is weighted by its
    probability relative to the likeliest one.
    """
    present = list(index_languages)
    if lang is not None:
        return {analyzers.canonical(lang): 1.0}
    if not present:
        return {}
    probabilities = analyzers.detect.language_probabilities(
        query_words(node) if words is None else words, present
    )
    if not probabilities:
        probabilities = [(code, 1.0) for code in present]
    top = max(p for _, p in probabilities) or 1.0
    weights: dict[str, float] = {}
    for code, p in probabilities:
        weight = (p / top) ** ranking.language_sharpness
        if weight >= ranking.min_language_weight:
            key = analyzers.canonical(code)
            weights[key] = max(weights.get(key, 0.0), weight)
    return weights


class Term(NamedTuple):
    """One term of one field, boosted: most of a reading. (A Whoosh ``Term`` query costs
    many times more to make and to hash; :meth:`query` makes one where Whoosh must match.)"""

    fieldname: str
    text: str
    boost: float = 1.0

    def query(self) -> q.Term:
        return q.Term(self.fieldname, self.text, boost=self.boost)


@attrs.frozen(cache_hash=True)  # evaluation looks readings up to count alike ones once
class Reading:
    """One free-text leaf as terms and Whoosh queries: per language field (boosted by the
    language's weight), and as name keys for documents outside the languages read."""

    parts: tuple[Term | q.Phrase, ...]
    prefixes: tuple[q.Prefix, ...]  # scored as a constant, whatever term of theirs matched
    names: tuple[Term, ...]
    # analyzer key → its terms, for highlighting; left out of equality, so that two readings
    # are equal when they search the same terms in the same fields
    terms: Mapping[str, frozenset[str]] = attrs.field(eq=False)

    def is_empty(self) -> bool:
        return not (self.parts or self.prefixes or self.names)


class Reader:
    """How one search reads its leaves: each in the languages of ``weights`` (its terms
    boosted by the language's weight), ``name_keys`` giving its name keys and
    ``text_fields`` the declared text fields searched beside title and body, with their
    boosts. A leaf the query holds twice is read once."""

    def __init__(
        self,
        weights: Mapping[str, float],
        ranking: Ranking = DEFAULT_RANKING,
        name_keys: Callable[[syntax.Words], list[str]] | None = None,
        text_fields: Mapping[str, float] | None = None,
    ) -> None:
        self._weights, self._ranking, self._name_keys = weights, ranking, name_keys
        self._text_fields = text_fields or {}
        # a leaf's field (None: title and body) → per language, its fields with their boosts
        self._targets: dict[str | None, list[tuple[str, list[tuple[str, float]]]]] = {}
        self._readings: dict[syntax.Words, Reading] = {}

    def read(self, leaf: syntax.Words) -> Reading:
        found = self._readings.get(leaf)
        if found is None:
            found = self._readings[leaf] = self._read(leaf)
        return found

    def _read(self, leaf: syntax.Words) -> Reading:
        parts: list[Term | q.Phrase] = []
        prefixes: list[q.Prefix] = []
        terms: dict[str, frozenset[str]] = {}
        for key, targets in self._targets_of(leaf.field):
            if leaf.kind == "prefix":
                folded = analyzers.chain(key).fold(leaf.text)
                if folded:
                    prefixes += [q.Prefix(field, folded, boost=boost) for field, boost in targets]
                continue
            tokens = analyzers.analyze(leaf.text, key)
            if not tokens:
                continue
            words = [t.term for t in tokens]
            terms[key] = frozenset(words)
            if len(words) == 1 and leaf.kind != "phrase":
                parts += [Term(field, words[0], boost) for field, boost in targets]
                continue
            # Stopwords dropped inside the phrase still hold their positions in documents.
            slop = 1 + leaf.slop + (tokens[-1].position - tokens[0].position + 1 - len(tokens))
            parts += [q.Phrase(field, words, slop=slop, boost=boost) for field, boost in targets]
        names = tuple([Term(NAMES, key) for key in self._name_keys(leaf)]) if self._name_keys else ()
        return Reading(tuple(parts), tuple(prefixes), names, terms)

    def _targets_of(self, field: str | None) -> list[tuple[str, list[tuple[str, float]]]]:
        found = self._targets.get(field)
        if found is None:
            found = self._targets[field] = [
                (
                    key,
                    [
                        (name, boost * weight)
                        for name, boost in _targets(field, key, self._ranking, self._text_fields)
                    ],
                )
                for key, weight in self._weights.items()
            ]
        return found


def name_keys_of(
    text: str, weights: Mapping[str, float], keep: Callable[[str], bool]
) -> Callable[[syntax.Words], list[str]]:
    """The name keys of a leaf of the query whose words are ``text`` (:func:`query_words`),
    read as names in the query's likeliest language.

    A query typed all in lowercase offers every word that its language's dictionary
    does not know as a common word; otherwise only its capitalized words are names.
    """
    top = max(weights, key=weights.__getitem__) if weights else None
    lowercase = not any(word[:1].isupper() for word in text.split())
    # The dictionaries that may know a lowercase word as a common one: the language the
    # query is read in, and English, the commonest language of queries an index may not
    # hold. (Not whatever language the text looks like: each dictionary costs a fraction
    # of a second to load, and odd text would load one after another.)
    langs = list(dict.fromkeys([top, COMMON_WORDS_FALLBACK] if lowercase else [top]))

    def keys(leaf: syntax.Words) -> list[str]:
        if leaf.kind != "word":  # a phrase or a prefix is meant as written
            return []
        first = leaf.text[:1]
        if not lowercase and first.isalpha() and first.islower():  # its one word is no name
            return []
        return query_name_keys(leaf.text, langs, lowercase, keep)

    return keys


def _targets(
    field: str | None, key: str, ranking: Ranking, text_fields: Mapping[str, float]
) -> list[tuple[str, float]]:
    if field == "title":
        return [(title_field(key), 1.0)]
    if field == "body":
        return [(body_field(key), 1.0)]
    if field is not None:
        return [(text_field(field, key), 1.0)]
    declared = [(text_field(name, key), boost) for name, boost in text_fields.items()]
    return [(title_field(key), ranking.title_boost), (body_field(key), 1.0), *declared]
