"""Counts of values over all the documents a search matches, not only the page shown.

A keyword declared with ``facet=True`` is counted from its column (one pass over the
matching documents); ``lang``, ``source``, true/false fields and other keywords from
their terms' postings (one intersection per distinct value).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from itertools import chain

from searchlib.fields import SEPARATOR, Boolean, Field, Keyword
from searchlib.matching import Documents
from searchlib.syntax import QueryError, names_argument

BUILTIN_FACETS = ("lang", "source")


def facet_names(facets: str | Iterable[str] | None, declared: Mapping[str, Field]) -> list[str]:
    """``facets=["tags", "lang"]`` checked against the index's fields."""
    names = names_argument(facets, "facets")
    for name in names:
        field = declared.get(name) if isinstance(name, str) else None
        if name not in BUILTIN_FACETS and not isinstance(field, (Keyword, Boolean)):
            countable = [
                *BUILTIN_FACETS,
                *(n for n, f in declared.items() if isinstance(f, (Keyword, Boolean))),
            ]
            raise QueryError(
                f"facets: cannot count the values of {name!r} (fields to count: {', '.join(countable)})"
            )
    return list(dict.fromkeys(names))


def count(
    names: list[str], matching: AbstractSet[int], documents: Documents, declared: Mapping[str, Field]
) -> dict[str, dict[object, int]]:
    """Per field, each value's number of matching documents, most frequent first (then by value)."""
    counted = {}
    for name in names:
        field = declared.get(name)
        if isinstance(field, Keyword) and field.facet:
            column = documents.column(name)
            values = (column[docnum] for docnum in matching)
            counts = Counter(chain.from_iterable(v.decode("utf-8").split(SEPARATOR) for v in values if v))
        else:
            sets = documents.languages if name == "lang" else documents.exact_values(name)
            counts = Counter({value: len(matching & docs) for value, docs in sets.items()})
        counted[name] = {
            value: n for value, n in sorted(counts.items(), key=lambda item: (-item[1], str(item[0]))) if n
        }
    return counted
