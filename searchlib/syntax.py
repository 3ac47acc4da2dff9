"""The query language: what a user types, parsed into a tree with exact boolean meaning.

The grammar (docs/usage.md gives it with examples), loosest binding first::

    query    := sequence ("OR" sequence)*
    sequence := conjunct+                         juxtaposed clauses
    conjunct := unary ("AND" unary)*
    unary    := "NOT" unary | "-" unary | "+" unary | atom
    atom     := "(" query ")" | FIELD ":" value | '"' words '"' ["~" N] | word | word"*"
    value    := word | '"' text '"' | (">" | ">=" | "<" | "<=") bound
              | ("[" | "{") bound "TO" bound ("]" | "}")

In a sequence, filters, ``+`` clauses and ``AND``-ed clauses are required and
``NOT``/``-`` clauses excluded; the other words are alternatives that rank, of which a
document needs at least one unless a required clause holds words of its own. A filter
only ever restricts: it scores nothing. Parsing is one linear pass over the text with
bounded nesting, whatever the input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple, Union

import attrs

import analyzers
from analyzers.tokenizer import SHORT_CHARS

# What ``name:value`` means per field: its kind. Declared fields add to these (Index._kinds).
BUILTIN_KINDS: dict[str, str] = {
    "title": "text",  # restrict a word to one field: title:Лаос
    "body": "text",
    "lang": "lang",
    "date": "date",
    "source": "keyword",
    "id": "keyword",
}
MAX_DEPTH = 32  # nesting of parentheses and NOTs
MAX_SLOP = 1000  # words that may stand between a phrase's words: "a b"~N
OPERATORS = frozenset({"AND", "OR", "NOT"})


class QueryError(ValueError):
    """A query that cannot be run; the message says why, for the user."""


# -- the tree ------------------------------------------------------------------------


class Words(NamedTuple):  # a tuple: a search makes and looks up dozens (bigrams), cheaply
    """Free text: a word (its analysis may make several terms: a phrase), a quoted phrase,
    or a prefix (``word*``); ``field`` None means title and body."""

    text: str
    field: str | None = None
    kind: str = "word"  # "word", "phrase" or "prefix"
    slop: int = 0


@attrs.frozen
class Match:
    """A filter: documents whose ``field`` equals ``value`` exactly (lang, source, id)."""

    field: str
    value: str


@attrs.frozen
class Period:
    """A filter on dates: ``start <= date < end``; None is open."""

    field: str
    start: datetime | None
    end: datetime | None


@attrs.frozen
class Range:
    """A filter on numbers: ``low <= value <= high`` (``<`` where not inclusive); None is open."""

    field: str
    low: float | None
    high: float | None
    include_low: bool = True
    include_high: bool = True


@attrs.frozen
class OneOf:
    """A filter: documents whose ``field`` equals any of ``values`` (none: no document)."""

    field: str
    values: tuple[object, ...]


FILTERS = (Match, Period, Range, OneOf)


@attrs.frozen
class And:
    items: tuple[Node, ...]


@attrs.frozen
class Or:
    items: tuple[Node, ...]


@attrs.frozen
class Not:
    item: Node


_NOT_RANKING = (*FILTERS, Not)  # nodes whose words never rank


@attrs.frozen
class Maybe:
    """The documents ``required`` matches, ranked higher where ``optional`` matches too."""

    required: Node
    optional: Node


Node = Union[Words, Match, Period, Range, OneOf, And, Or, Not, Maybe]  # noqa: UP007 (attrs resolves it at runtime)


def is_filter(node: Node) -> bool:
    """Whether ``node`` only restricts (holds no free text that could rank)."""
    if isinstance(node, Words):
        return False
    if isinstance(node, _NOT_RANKING):
        return True
    if isinstance(node, Maybe):
        return False
    return all(is_filter(item) for item in node.items)


def plain_alternatives(node: Node | None) -> tuple[Words, ...] | None:
    """The words of a query that is bare words only (most are), read without walking the tree."""
    if isinstance(node, Or) and all(type(item) is Words for item in node.items):
        return node.items
    return None


def text_leaves(node: Node | None) -> list[Words]:
    """The free-text leaves of ``node`` that can rank (not those under a NOT)."""
    if (alternatives := plain_alternatives(node)) is not None:
        return list(alternatives)
    if node is None or isinstance(node, _NOT_RANKING):
        return []
    if isinstance(node, Words):
        return [node]
    items = (node.required, node.optional) if isinstance(node, Maybe) else node.items
    return [leaf for item in items for leaf in text_leaves(item)]


def names_argument(value: object, argument: str) -> list[str]:
    """A search argument that names fields: one name, or a list or tuple of them."""
    if value is None:
        return []
    if not isinstance(value, (str, list, tuple)):
        raise QueryError(f"{argument} takes a field name or a list of them, not {type(value).__name__}")
    return [value] if isinstance(value, str) else list(value)


# -- lexing ----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<open>\()
      | (?P<close>\))
      | (?P<phrase>"[^"]*"(?:~\d+)?)
      | (?P<range>(?<![^\s(])[A-Za-z_][A-Za-z0-9_]*:[\[{][^\]}]*[\]}]?)
      | (?P<word>[^\s()"]+(?:"[^"]*")?)
    """,
    re.VERBOSE,
)
_FIELDED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(.*)", re.DOTALL)


@attrs.frozen
class _Token:
    kind: str  # "open", "close", "op", "atom"
    value: object = None


def _lex(text: str, fields: Mapping[str, str]) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        kind, raw = match.lastgroup, match.group()
        if kind == "space":
            continue
        if kind in ("open", "close"):
            tokens.append(_Token(kind))
        elif kind == "phrase":
            tokens.append(_Token("atom", _phrase(raw, None)))
        elif raw in OPERATORS:
            tokens.append(_Token("op", raw))
        else:
            tokens.extend(_word_tokens(raw, fields))
    return tokens


def _word_tokens(raw: str, fields: Mapping[str, str]) -> list[_Token]:
    """One bare token: ``-x``/``+x`` prefixes, ``field:value``, ``word*``."""
    prefix: list[_Token] = []
    if len(raw) > 1 and raw[0] in "-+" and raw[1] not in "-+":
        prefix.append(_Token("op", "NOT" if raw[0] == "-" else "+"))
        raw = raw[1:]
    fielded = _FIELDED.fullmatch(raw)
    if fielded and fielded.group(1) in fields and fielded.group(2):
        name, value = fielded.group(1), fielded.group(2)
        return [*prefix, _Token("atom", _fielded(name, value, fields[name]))]
    return [*prefix, _Token("atom", _bare(raw, None))]


def _phrase(raw: str, field: str | None) -> Words:
    body, _, slop = raw[1:].partition('"')
    slop = slop[1:] if slop.startswith("~") else ""
    # Digits past the seventh cannot matter, and a 5,000-digit number would not even convert.
    return Words(body, field, "phrase", min(int(slop[:7]), MAX_SLOP) if slop.isdigit() else 0)


def _bare(raw: str, field: str | None) -> Node:
    """A token as typed: a prefix, a word, or, when it holds several words (``Vietnam-Laos``,
    or a run of Thai or Chinese, cut into bigrams), those words as alternatives."""
    return _short_bare(raw, field) if len(raw) <= SHORT_CHARS else _read_bare(raw, field)


@lru_cache(maxsize=1 << 14)
def _short_bare(raw: str, field: str | None) -> Node:
    """A short token's node, kept: queries share their words (nodes are immutable)."""
    return _read_bare(raw, field)


def _read_bare(raw: str, field: str | None) -> Node:
    if raw.endswith("*") and raw.rstrip("*"):
        return Words(raw.rstrip("*"), field, "prefix")
    parts = [word for word, *_ in analyzers.words(raw)]
    if len(parts) <= 1:
        return Words(raw, field)
    return Or(tuple(Words(part, field) for part in dict.fromkeys(parts)))


def _fielded(name: str, value: str, kind: str) -> Node:
    if kind == "text":
        return _phrase(value, name) if value.startswith('"') else _bare(value, name)
    if value.startswith('"'):
        value = value[1:].partition('"')[0]
    if kind == "date":
        return date_filter(name, value)
    if kind == "numeric":
        return number_filter(name, value)
    if kind == "boolean":
        return Match(name, boolean(value))
    if kind == "lang":
        return Match(name, analyzers.registry.language_code(value))
    return Match(name, value)


def boolean(text: str) -> bool:
    """``true``/``false`` as a query or a ``--filter`` spells them (also yes/no, 1/0)."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise QueryError(f"not true or false: {text!r}")


def number(text: str) -> float:
    """A number as a query spells it: ``5``, ``-2.5``, ``1e3``."""
    try:
        value = int(text) if re.fullmatch(r"[+-]?\d{1,19}", text.strip()) else float(text)
    except ValueError:
        raise QueryError(f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise QueryError(f"not a finite number: {text!r}")
    return value


def number_filter(field: str, value: str) -> Range:
    """``5``, ``>5``, ``<=10``, ``[1 TO 10]`` (inclusive), ``{1 TO 10}`` (exclusive), ``*`` open."""
    ranged = _RANGE.fullmatch(value.strip())
    if ranged:
        opening, low, high, closing = ranged.groups()
        return Range(
            field,
            None if low == "*" else number(low),
            None if high == "*" else number(high),
            opening == "[",
            closing != "}",
        )
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            bound = number(value[len(op) :])
            return {
                ">=": Range(field, bound, None),
                "<=": Range(field, None, bound),
                ">": Range(field, bound, None, include_low=False),
                "<": Range(field, None, bound, include_high=False),
            }[op]
    if value.startswith(("[", "{")):
        raise QueryError(f"cannot read the range {value!r} (write {field}:[1 TO 10])")
    exact = number(value)
    return Range(field, exact, exact)


# -- dates -----------------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?)?)?")


def period(text: str) -> tuple[datetime, datetime]:
    """The half-open period ``[start, end)`` a date names: a year, a month, a day or a minute."""
    found = _DATE.fullmatch(text.strip())
    if not found:
        raise QueryError(f"not a date: {text!r} (write 2024, 2024-11, 2024-11-05 or 2024-11-05T10:30)")
    year, month, day, hour, minute, second = (int(g) if g else None for g in found.groups())
    try:
        start = datetime(year, month or 1, day or 1, hour or 0, minute or 0, second or 0)
        if month is None:
            end = start.replace(year=year + 1)
        elif day is None:
            end = start.replace(year=year + 1, month=1) if month == 12 else start.replace(month=month + 1)
        elif hour is None:
            end = start + timedelta(days=1)
        else:
            end = start + timedelta(seconds=1 if second is not None else 60)
    except (ValueError, OverflowError):
        raise QueryError(f"not a date: {text!r}") from None
    return start, end


_RANGE = re.compile(r"([\[{])\s*(\S+)\s+TO\s+(\S+?)\s*([\]}])?", re.IGNORECASE)


def date_filter(field: str, value: str) -> Period:
    """``2024``, ``<2024``, ``>=2024-06``, ``[2024-01 TO 2024-06]``, ``{2023 TO 2025}``, ``*`` open.

    A date names a period: ``date:2024`` is the whole year, ``<2024`` before it starts,
    ``>2024`` after it ends; ``[a TO b]`` includes both periods, ``{a TO b}`` excludes them.
    """
    ranged = _RANGE.fullmatch(value.strip())
    if ranged:
        opening, low, high, closing = ranged.groups()
        start = None if low == "*" else period(low)[0 if opening == "[" else 1]
        end = None if high == "*" else period(high)[1 if closing != "}" else 0]
        return Period(field, start, end)
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            start, end = period(value[len(op) :])
            return {
                ">=": Period(field, start, None),
                "<=": Period(field, None, end),
                ">": Period(field, end, None),
                "<": Period(field, None, start),
            }[op]
    if value.startswith(("[", "{")):
        raise QueryError(f"cannot read the date range {value!r} (write date:[2024-01 TO 2024-06])")
    return Period(field, *period(value))


# -- parsing ---------------------------------------------------------------------------


def parse(text: str, fields: Mapping[str, str] = BUILTIN_KINDS) -> Node | None:
    """The query ``text`` as a tree, or None if it holds nothing to search for.

    ``fields`` are the names that ``name:value`` treats as a field, with their kinds
    (text, keyword, numeric, date, boolean, lang); any other ``name:value`` is searched
    as words.
    """
    cleaned = text if text.isprintable() else "".join(ch if ch.isprintable() else " " for ch in text)
    raws = cleaned.split()  # what the lexer's words are when no syntax is in them
    if _plain(cleaned, raws):
        should = list(dict.fromkeys(_bare(raw, None) for raw in raws))
        return (should[0] if len(should) == 1 else Or(tuple(should))) if should else None
    return _Parser(_lex(cleaned, fields)).parse()


_SYNTAX = frozenset('()":')


def _plain(text: str, raws: list[str]) -> bool:
    """Whether ``text`` is bare words only (no operator, phrase, group, field, prefix, ``-``
    or ``+``): the parser would make it one sequence of the words, each optional."""
    return (
        _SYNTAX.isdisjoint(text)
        and OPERATORS.isdisjoint(raws)
        and not any(raw[0] in "-+" or raw[-1] == "*" for raw in raws)
    )


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def parse(self) -> Node | None:
        node = self.query(0)
        while self.peek() is not None:  # a stray ")": skip it and go on
            self.at += 1
            rest = self.query(0)
            if node is None or rest is None:
                node = rest if node is None else node
            else:
                node = _sequence([("should", node), ("should", rest)])
        return node

    def query(self, depth: int) -> Node | None:
        if depth > MAX_DEPTH:
            raise QueryError(f"the query nests deeper than {MAX_DEPTH} levels")
        alternatives = []
        while True:
            node = self.sequence(depth)
            if node is not None:
                alternatives.append(node)
            token = self.peek()
            if token is not None and token.kind == "op" and token.value == "OR":
                self.at += 1
                continue
            break
        if not alternatives:
            return None
        alternatives = list(dict.fromkeys(alternatives))
        return alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))

    def sequence(self, depth: int) -> Node | None:
        clauses: list[tuple[str, Node]] = []
        while True:
            token = self.peek()
            if token is None or token.kind == "close" or (token.kind == "op" and token.value == "OR"):
                break
            if token.kind == "op" and token.value == "AND":  # AND with nothing before it
                self.at += 1
                continue
            clause = self.conjunct(depth)
            if clause is not None:
                clauses.append(clause)
        return _sequence(clauses) if clauses else None

    def conjunct(self, depth: int) -> tuple[str, Node] | None:
        first = self.unary(depth)
        items = [first] if first is not None else []
        while (token := self.peek()) is not None and token.kind == "op" and token.value == "AND":
            self.at += 1
            following = self.unary(depth)
            if following is not None:
                items.append(following)
        if not items:
            return None
        if len(items) == 1:
            return items[0]
        return ("must", And(tuple(Not(node) if role == "not" else node for role, node in items)))

    def unary(self, depth: int) -> tuple[str, Node] | None:
        """A clause with its role in a sequence: "should", "must" or "not"."""
        token = self.peek()
        if token is None or token.kind == "close":
            return None
        if token.kind == "op" and token.value in ("NOT", "+"):
            if depth > MAX_DEPTH:
                raise QueryError(f"the query nests deeper than {MAX_DEPTH} levels")
            self.at += 1
            inner = self.unary(depth + 1)
            if inner is None:
                return None
            return ("not", inner[1]) if token.value == "NOT" else ("must", inner[1])
        self.at += 1
        if token.kind == "op":  # OR where an operand belongs (AND is skipped by the caller)
            return None
        if token.kind == "open":
            inner = self.query(depth + 1)
            if self.peek() is not None and self.peek().kind == "close":
                self.at += 1
            return None if inner is None else ("should", inner)
        node = token.value
        return ("must" if is_filter(node) else "should", node)


def _sequence(roles: list[tuple[str, Node]]) -> Node:
    """Juxtaposed clauses, as in Lucene: filters, ``+`` and ``AND`` clauses hold, ``NOT``
    clauses don't; the other words rank, and one of them must match unless a required
    clause holds words of its own."""
    filters = [n for role, n in roles if role != "not" and is_filter(n)]
    required = [n for role, n in roles if role == "must" and not is_filter(n)]
    # A word said twice counts once, as in Whoosh's normalized queries the ranking was tuned on.
    should = list(dict.fromkeys(n for role, n in roles if role == "should" and not is_filter(n)))
    excluded = [Not(n) for role, n in roles if role == "not"]
    ranking = (should[0] if len(should) == 1 else Or(tuple(should))) if should else None
    items = filters + required + ([ranking] if ranking is not None and not required else []) + excluded
    core = items[0] if len(items) == 1 else And(tuple(items))
    return Maybe(core, ranking) if ranking is not None and required else core
