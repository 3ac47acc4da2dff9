"""From what a user types to a Whoosh query over the per-language fields.

The query is parsed once into words as typed, then read once per candidate
language with that language's analyzer. Each reading only reaches documents of
its own language (their fields), and is weighted by how likely the query is in
that language, so readings in other languages do not add up into noise: an
English question read as German meets German documents' statistics, where
English function words are rare and would score high.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from whoosh import query as q
from whoosh.fields import DATETIME, ID, TEXT, Schema
from whoosh.qparser import GtLtPlugin, OrGroup, QueryParser, WildcardPlugin

import analyzers
from analyzers.names import name_tokens
from searchlib.analysis import SurfaceAnalyzer
from searchlib.ranking import DEFAULT_RANKING, Ranking
from searchlib.schema import NAMES, body_field, title_field

TEXT_FIELDS = ("text", "title", "body")
MAX_QUERY_WORDS = 1024


class _UnionOr(q.Or):
    """Or that always merges its clauses' postings as a union.

    For indexes under 5,000 documents Whoosh preloads an Or's matches into arrays
    instead, and with a result limit that path drops documents tied in score (found
    when a parallel-built index ranked differently): exact ties must all survive.
    """

    matcher_type = q.Or.DEFAULT_MATCHER


def _exact_unions(node: q.Query) -> q.Query:
    """``node`` with every :class:`whoosh.query.Or` in it made a :class:`_UnionOr`."""
    if node.is_leaf():
        return node
    node = node.apply(_exact_unions)
    if type(node) is q.Or:
        return _UnionOr(node.subqueries, boost=node.boost)
    return node


class QueryError(ValueError):
    """A query that cannot be run; the message says why, for the user."""


def _surface_schema() -> Schema:
    surface = SurfaceAnalyzer()
    return Schema(
        text=TEXT(analyzer=surface),
        title=TEXT(analyzer=surface),
        body=TEXT(analyzer=surface),
        lang=ID,
        id=ID,
        source=ID,
        date=DATETIME,
    )


class _StarWildcardPlugin(WildcardPlugin):
    """Only ``*`` is a wildcard: people end questions with ``?`` and mean no pattern."""

    expr = r"(?P<text>[*])"


_PARSER = QueryParser("text", _surface_schema(), group=OrGroup)
_PARSER.remove_plugin_class(WildcardPlugin)
_PARSER.add_plugin(_StarWildcardPlugin())
_PARSER.add_plugin(GtLtPlugin())


def parse(text: str) -> q.Query:
    """The user's query as words typed, operators and field filters (no language yet)."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    if len(cleaned.split()) > MAX_QUERY_WORDS:
        raise QueryError(f"the query has more than {MAX_QUERY_WORDS} words")
    try:
        parsed = _PARSER.parse(cleaned)
    except Exception as error:  # Whoosh raises assorted errors on odd syntax
        raise QueryError(f"cannot parse the query: {error}") from None
    return _with_filters_required(parsed)


def _with_filters_required(node: q.Query) -> q.Query:
    """Words are alternatives that rank; ``lang:``/``date:``/``id:`` filters and ``NOT``
    terms constrain. Whoosh's OR grouping would instead let a filter alone match."""
    if isinstance(node, q.Term) and node.fieldname == "lang":
        return q.Term("lang", analyzers.registry.language_code(node.text), boost=node.boost)
    if node.is_leaf():
        return node
    node = node.apply(_with_filters_required)
    if not isinstance(node, q.Or):
        return node
    negatives = [c.query for c in node.subqueries if isinstance(c, q.Not)]
    rest = [c for c in node.subqueries if not isinstance(c, q.Not)]
    filters = [c for c in rest if _is_filter(c)]
    words = [c for c in rest if not _is_filter(c)]
    core: q.Query = q.Or(words, boost=node.boost) if len(words) > 1 else (words[0] if words else q.Every())
    if filters:
        core = q.And([core, *filters])
    if negatives:
        core = q.AndNot(core, negatives[0] if len(negatives) == 1 else q.Or(negatives))
    return core


def _is_filter(node: q.Query) -> bool:
    leaves = [node] if node.is_leaf() else list(node.leaves())
    return bool(leaves) and all(getattr(leaf, "fieldname", None) not in TEXT_FIELDS for leaf in leaves)


def query_words(parsed: q.Query) -> str:
    """The words of the free-text part of a query, for language identification."""
    return " ".join(
        text for field, text in parsed.iter_all_terms() if field in TEXT_FIELDS and isinstance(text, str)
    )


def _map_text_leaves(parsed: q.Query, read: Callable[[q.Query], q.Query]) -> q.Query:
    """``parsed`` with each free-text leaf replaced by ``read(leaf)``; filters kept as they are."""

    def rewrite(node: q.Query) -> q.Query:
        if getattr(node, "fieldname", None) not in TEXT_FIELDS:
            return node if node.is_leaf() else node.apply(rewrite)
        return read(node)

    return rewrite(parsed).normalize()


def read_in(parsed: q.Query, key: str, ranking: Ranking = DEFAULT_RANKING) -> q.Query:
    """The query read by one analyzer (``key`` as in :func:`analyzers.canonical`)."""

    def read(node: q.Query) -> q.Query:
        targets = _targets(node.fieldname, key, ranking)
        if isinstance(node, q.Phrase):
            tokens = analyzers.analyze(" ".join(node.words), key)
            if not tokens:
                return q.NullQuery
            terms = [t.term for t in tokens]
            # Stopwords dropped inside the phrase still hold their positions in documents.
            slop = node.slop + (tokens[-1].position - tokens[0].position + 1 - len(tokens))
            return _any(q.Phrase(f, terms, slop=slop, boost=b * node.boost) for f, b in targets)
        if isinstance(node, q.Term):
            terms = [t.term for t in analyzers.analyze(node.text, key)]
            if len(terms) > 1:
                return _any(q.Phrase(f, terms, boost=b * node.boost) for f, b in targets)
            return _any(q.Term(f, t, boost=b * node.boost) for f, b in targets for t in terms)
        if isinstance(node, (q.Prefix, q.Wildcard)):
            folded = analyzers.chain(key).fold(node.text)
            return _any(type(node)(f, folded, boost=b * node.boost) for f, b in targets)
        return q.NullQuery

    return _map_text_leaves(parsed, read)


def _targets(field: str, key: str, ranking: Ranking) -> list[tuple[str, float]]:
    if field == "title":
        return [(title_field(key), 1.0)]
    if field == "body":
        return [(body_field(key), 1.0)]
    return [(title_field(key), ranking.title_boost), (body_field(key), 1.0)]


def _any(queries: Iterable[q.Query]) -> q.Query:
    subqueries = list(queries)
    if not subqueries:
        return q.NullQuery
    return subqueries[0] if len(subqueries) == 1 else q.Or(subqueries)


def language_weights(
    parsed: q.Query,
    index_languages: Iterable[str],
    lang: str | None = None,
    ranking: Ranking = DEFAULT_RANKING,
) -> dict[str, float]:
    """Weight per analyzer key for reading the query, from its likely languages.

    With ``lang`` given, only that language is read. Otherwise the query's words
    are identified among the languages the index holds (script first), and each
    candidate is weighted by its probability relative to the likeliest one.
    """
    present = list(index_languages)
    if lang is not None:
        return {analyzers.canonical(lang): 1.0}
    if not present:
        return {}
    probabilities = analyzers.detect.language_probabilities(query_words(parsed), present)
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


def read_names(parsed: q.Query, lang: str | None, keep: Callable[[str], bool] = bool) -> q.Query:
    """The query's words as cross-script name keys (analyzers.names), filters kept.

    Only its capitalized words when it has any (as names are in documents); every word
    of a query typed all in lowercase.
    """
    every_word = not any(word[:1].isupper() for word in query_words(parsed).split())

    def read(node: q.Query) -> q.Query:
        if isinstance(node, (q.Term, q.Phrase)):
            text = node.text if isinstance(node, q.Term) else " ".join(node.words)
            keys = [k for k in dict.fromkeys(t.term for t in name_tokens(text, lang, every_word)) if keep(k)]
            return _any(q.Term(NAMES, key, boost=node.boost) for key in keys)
        return q.NullQuery

    return _map_text_leaves(parsed, read)


def build(
    parsed: q.Query, weights: Mapping[str, float], ranking: Ranking = DEFAULT_RANKING
) -> tuple[q.Query, dict[str, q.Query]]:
    """The combined language readings, ready to search, and each reading by analyzer key
    (for highlighting)."""
    readings = {key: read_in(parsed, key, ranking) for key in weights}
    parts = [
        reading.with_boost(reading.boost * weights[key]) if weights[key] != 1.0 else reading
        for key, reading in readings.items()
        if reading is not q.NullQuery
    ]
    return _exact_unions(_any(parts)), readings


def build_names(
    parsed: q.Query,
    weights: Mapping[str, float],
    index_languages: Iterable[str],
    keep: Callable[[str], bool] = bool,
) -> tuple[q.Query, q.Query]:
    """The query as name keys (those ``keep`` accepts), and the mask of documents it must
    not reach: those in the languages the query *is* read in, where the readings alone rank."""
    codes = list(index_languages)
    read = [code for code in codes if analyzers.canonical(code) in weights]
    if len(read) == len(codes):
        return q.NullQuery, q.NullQuery
    top = max(weights, key=weights.__getitem__) if weights else None
    mask = _any(q.Term("lang", code) for code in read)
    return _exact_unions(read_names(parsed, top, keep)), mask
