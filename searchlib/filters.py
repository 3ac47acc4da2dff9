"""``filter=`` of :meth:`searchlib.Index.search` (and ``--filter``) as query-tree filters.

``{"tags": "visa"}`` equals, ``{"lang": ["ru", "no"]}`` any of, ``{"price": (1, 10)}`` an
inclusive range with None open. A date given as text names a period (``"2024"``, the
whole year; as a range's end, up to that period's end); a ``datetime`` is that instant.
Like the query language's filters they restrict and never score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import analyzers
from searchlib import syntax
from searchlib.documents import to_datetime
from searchlib.syntax import QueryError

MAX_VALUES = 1024  # "any of" values of one filter, as a query holds at most 1,024 words


def filter_nodes(filters: Mapping[str, object] | None, kinds: Mapping[str, str]) -> list[syntax.Node]:
    """One filter node per field of ``filters``; a :class:`QueryError` names a wrong one."""
    if filters is None:
        return []
    if not isinstance(filters, Mapping):
        raise QueryError(f"filter must map field names to values, not {type(filters).__name__}")
    if len(filters) > MAX_VALUES:
        raise QueryError(f"filter: at most {MAX_VALUES} fields, not {len(filters)}")
    return [_node(name, spec, kinds) for name, spec in filters.items()]


def _node(name: object, spec: object, kinds: Mapping[str, str]) -> syntax.Node:
    kind = kinds.get(name) if isinstance(name, str) else None
    if kind is None or kind == "text":
        fields = ", ".join(n for n, k in kinds.items() if k != "text")
        why = "free text: search it with name:word" if kind == "text" else "no such field"
        raise QueryError(f"filter: cannot filter on {name!r} ({why}; fields to filter on: {fields})")
    if isinstance(spec, (list, set, frozenset)):
        if len(spec) > MAX_VALUES:
            raise QueryError(f"filter {name!r}: at most {MAX_VALUES} values, not {len(spec)}")
        values = sorted(spec, key=repr) if isinstance(spec, (set, frozenset)) else spec
        nodes = [_equal(name, kind, value) for value in values]
        if all(isinstance(node, syntax.Match) for node in nodes):
            return syntax.OneOf(name, tuple(dict.fromkeys(node.value for node in nodes)))
        return syntax.Or(tuple(dict.fromkeys(nodes)))
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise QueryError(f"filter {name!r}: a range is a pair (low, high), not {len(spec)} values")
        return _range(name, kind, *spec)
    return _equal(name, kind, spec)


def _equal(name: str, kind: str, value: object) -> syntax.Node:
    if value is None:
        raise QueryError(f"filter {name!r}: None is not a value (a range's open end only)")
    if kind == "numeric":
        exact = _number(name, value)
        return syntax.Range(name, exact, exact)
    if kind == "date":
        return syntax.Period(name, *_period(name, value))
    if kind == "boolean":
        return syntax.Match(name, value if isinstance(value, bool) else syntax.boolean(_text(name, value)))
    if kind == "lang":
        return syntax.Match(name, analyzers.registry.language_code(_text(name, value)))
    return syntax.Match(name, _text(name, value))


def _range(name: str, kind: str, low: object, high: object) -> syntax.Node:
    if kind == "numeric":
        return syntax.Range(
            name, None if low is None else _number(name, low), None if high is None else _number(name, high)
        )
    if kind == "date":
        start = None if low is None else _period(name, low)[0]
        end = None if high is None else _period(name, high)[1]
        return syntax.Period(name, start, end)
    raise QueryError(f"filter {name!r}: ranges are for numbers and dates; give a value or a list")


def _number(name: str, value: object) -> float:
    if isinstance(value, str):
        return syntax.number(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise QueryError(f"filter {name!r}: expected a number, not {value!r}")
    return value


def _period(name: str, value: object) -> tuple[datetime, datetime]:
    """``[start, end)`` of a date filter's value: a text's period, a day, or an instant."""
    if isinstance(value, str):
        return syntax.period(value)
    if isinstance(value, datetime):
        instant = to_datetime(value)
        return instant, instant + timedelta(microseconds=1)
    if isinstance(value, date):
        day = to_datetime(value)
        return day, day + timedelta(days=1)
    raise QueryError(f"filter {name!r}: expected a date (2024-11-05, a date or a datetime), not {value!r}")


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise QueryError(f"filter {name!r}: expected text, not {value!r}")
    return value


def from_arguments(items: Iterable[str], kinds: Mapping[str, str]) -> dict[str, object]:
    """``--filter tags=visa --filter tags=asean --filter price=1..10`` as ``filter=``: a field
    given twice is any of its values; ``low..high`` is a range, either end left open."""
    filters: dict[str, object] = {}
    for item in items:
        name, equals, value = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise QueryError(f"--filter {item!r}: write FIELD=VALUE (tags=visa, price=1..10, date=2024..)")
        low, dots, high = value.partition("..")
        if dots and kinds.get(name) in ("numeric", "date"):
            spec: object = (low.strip() or None, high.strip() or None)
        else:
            spec = [value]
        if isinstance(filters.get(name), list) and isinstance(spec, list):
            filters[name] = [*filters[name], *spec]  # type: ignore[list-item]
        elif name in filters:
            raise QueryError(f"--filter {name}: give one range, or several values")
        else:
            filters[name] = spec
    return {
        name: spec[0] if isinstance(spec, list) and len(spec) == 1 else spec for name, spec in filters.items()
    }
