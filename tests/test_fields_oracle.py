"""Declared fields against a brute-force oracle: filters, sorting, paging and facet counts of
thousands of random searches over random documents, with multi-valued keywords, missing
values, replacements, deletions, several segments and a build in two processes.

The oracle holds every document's values in Python and computes each answer by looking at
all of them. Relevance comes from the index itself (the same text searched without filters):
filters must restrict it and never change it, and every order is the oracle's.
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import searchlib
from searchlib import fields

TAGS = ["visa", "asean", "ferry", "trade", "Visa", "summit", "oil", "rail"]
AUTHORS = ["Ivan Petrov", "Kari Nordmann", "Ali", "Zoe"]
WORDS = [
    "ferry",
    "visa",
    "summit",
    "trade",
    "minister",
    "border",
    "rail",
    "harbour",
    "treaty",
    "island",
    "oil",
    "grain",
]
FIELDS = {
    "tags": fields.Keyword(multiple=True, facet=True),
    "author": fields.Keyword(facet=True),
    "region": fields.Keyword(),  # no column: counted from its terms
    "price": fields.Numeric(float, sortable=True),
    "qty": fields.Numeric(int, sortable=True),
    "published": fields.Date(sortable=True),
    "in_stock": fields.Boolean(),
    "extra": fields.Stored(),
}
START = datetime(2020, 1, 1)
# The suite runs 240 random searches, and a third as many after the merge; the full proof is
# SEARCHLIB_ORACLE_SEARCHES=5000 python -m pytest tests/test_fields_oracle.py (docs/benchmarks.md).
SEARCHES = int(os.environ.get("SEARCHLIB_ORACLE_SEARCHES", "240"))


def random_document(rng: random.Random, doc_id: str) -> searchlib.Document:
    values: dict[str, object] = {}
    if rng.random() < 0.8:
        values["tags"] = rng.sample(TAGS, rng.randint(1, 3))
    if rng.random() < 0.7:
        values["author"] = rng.choice(AUTHORS)
    if rng.random() < 0.6:
        values["region"] = rng.choice(["north", "south"])
    if rng.random() < 0.75:
        values["price"] = round(rng.uniform(0, 100), rng.choice([0, 2]))
    if rng.random() < 0.75:
        values["qty"] = rng.randint(-5, 40)
    if rng.random() < 0.7:
        values["published"] = START + timedelta(days=rng.randint(0, 1500), hours=rng.randint(0, 23))
    if rng.random() < 0.7:
        values["in_stock"] = rng.random() < 0.5
    if rng.random() < 0.3:
        values["extra"] = {"n": rng.randint(0, 9), "list": [1, "a"]}
    date = START + timedelta(days=rng.randint(0, 1500)) if rng.random() < 0.7 else None
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25)))
    return searchlib.Document(
        id=doc_id, title=f"Item {doc_id}", body=body, lang="en", date=date, fields=values
    )


class Oracle:
    """Every live document's values, and the answers they imply."""

    def __init__(self) -> None:
        self.docs: dict[str, searchlib.Document] = {}

    def value(self, doc: searchlib.Document, name: str) -> object:
        if name in ("date", "title", "id", "lang"):
            return getattr(doc, name)
        return doc.fields.get(name)

    def admits(self, doc: searchlib.Document, name: str, spec: object) -> bool:
        value = self.value(doc, name)
        if value is None:
            return False
        values = value if isinstance(value, list) else [value]
        if isinstance(spec, list):
            return any(self.admits(doc, name, one) for one in spec)
        if isinstance(spec, tuple):
            low, high = spec
            if name in ("published", "date"):
                low = None if low is None else period(low)[0]
                high = None if high is None else period(high)[1]
                return (low is None or value >= low) and (high is None or value < high)
            return (low is None or value >= low) and (high is None or value <= high)
        if name in ("published", "date"):
            start, end = period(spec)
            return start <= value < end
        return spec in values

    def matching(self, filters: dict, scores: dict[str, float] | None) -> list[str]:
        return [
            doc_id
            for doc_id, doc in self.docs.items()
            if (scores is None or doc_id in scores)
            and all(self.admits(doc, name, spec) for name, spec in filters.items())
        ]

    def order(self, ids: list[str], sort: list[str], scores: dict[str, float] | None) -> list[str]:
        def key(doc_id: str) -> tuple:
            doc = self.docs[doc_id]
            parts: list[object] = []
            for spec in sort:
                name, descending = spec.lstrip("-"), spec.startswith("-")
                value = self.value(doc, name)
                if isinstance(value, datetime):
                    value = value.timestamp()
                if value is None:
                    parts.append((1,))
                elif descending:
                    parts.append((0, Reverse(value) if isinstance(value, str) else -value))
                else:
                    parts.append((0, value))
            score = round(scores[doc_id], 6) if scores else 0.0
            date = -doc.date.timestamp() if doc.date else float("inf")
            return (*parts, -score, date, doc_id)

        return sorted(ids, key=key)

    def facets(self, ids: list[str], names: list[str]) -> dict[str, dict[object, int]]:
        counted = {}
        for name in names:
            counts: dict[object, int] = {}
            for doc_id in ids:
                value = self.value(self.docs[doc_id], name)
                for one in value if isinstance(value, list) else [] if value is None else [value]:
                    counts[one] = counts.get(one, 0) + 1
            counted[name] = counts
        return counted


class Reverse:
    def __init__(self, text: str) -> None:
        self.text = text

    def __lt__(self, other: Reverse) -> bool:
        return self.text > other.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reverse) and self.text == other.text


def period(text: str) -> tuple[datetime, datetime]:
    from searchlib.syntax import period as named_period

    return named_period(text)


def random_filters(rng: random.Random) -> dict:
    choices = {
        "tags": lambda: rng.choice([rng.choice(TAGS), rng.sample(TAGS, 2), []]),
        "author": lambda: rng.choice([rng.choice(AUTHORS), rng.sample(AUTHORS, 2)]),
        "region": lambda: rng.choice(["north", "south"]),
        "price": lambda: rng.choice(
            [
                (rng.uniform(0, 50), rng.uniform(50, 100)),
                (None, rng.uniform(0, 100)),
                (rng.uniform(0, 100), None),
            ]
        ),
        "qty": lambda: rng.choice([rng.randint(-5, 40), (rng.randint(-5, 10), rng.randint(10, 40))]),
        "published": lambda: rng.choice(
            [str(rng.randint(2020, 2024)), ("2021-03", rng.choice(["2022", None]))]
        ),
        "in_stock": lambda: rng.random() < 0.5,
        "date": lambda: rng.choice([(f"{rng.randint(2020, 2023)}-06", None), str(rng.randint(2020, 2024))]),
    }
    names = rng.sample(sorted(choices), rng.randint(1, 3))
    return {name: choices[name]() for name in names}


SORTS = [
    [],
    ["-price"],
    ["qty"],
    ["-published", "author"],
    ["-date"],
    ["date", "-qty"],
    ["title"],
    ["-author"],
]
FACETS = ["tags", "author", "region", "in_stock", "lang"]


def check_searches(index: searchlib.Index, oracle: Oracle, rng: random.Random, count: int) -> None:
    ranked: dict[str, dict[str, float]] = {}
    for _ in range(count):
        filters = random_filters(rng)
        sort = rng.choice(SORTS)
        offset, limit = rng.choice([0, 0, 3, 17]), rng.randint(1, 25)
        word = rng.choice([None, None, rng.choice(WORDS)])
        scores = None
        if word is not None:
            if word not in ranked:  # the unfiltered ranking of each word, read once
                ranked[word] = {h.id: h.score for h in index.search(word, limit=10_000, highlight=False)}
            scores = ranked[word]
        found = index.search(
            word or "", filter=filters, sort=sort or None, offset=offset, limit=limit, facets=FACETS
        )
        expected_ids = oracle.matching(filters, scores)
        assert found.total == len(expected_ids), (word, filters)
        ordered = oracle.order(expected_ids, sort, scores)
        assert [hit.id for hit in found] == ordered[offset : offset + limit], (word, filters, sort, offset)
        for hit in found:
            assert hit.score == (scores[hit.id] if scores else 0.0)  # filters never score
            assert hit.fields == oracle.docs[hit.id].fields
        expected_facets = oracle.facets(expected_ids, FACETS)
        for name in FACETS:
            assert found.facets[name] == {v: n for v, n in expected_facets[name].items() if n}, name


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[searchlib.Index, Oracle]:
    rng = random.Random(19)
    oracle = Oracle()
    index = searchlib.Index.create(tmp_path_factory.mktemp("fields") / "index", fields=FIELDS)
    batches = [[random_document(rng, str(n)) for n in range(start, start + 700)] for start in (0, 700, 1400)]
    for number, batch in enumerate(batches):  # three commits: three segments
        index.add(batch, jobs=2 if number == 1 else 1)
        oracle.docs.update((doc.id, doc) for doc in batch)
    replacements = [random_document(rng, str(rng.randrange(2100))) for _ in range(250)]
    index.add(replacements)
    oracle.docs.update((doc.id, doc) for doc in replacements)
    deleted = rng.sample(sorted(oracle.docs), 100)
    assert index.delete(deleted) == 100
    for doc_id in deleted:
        del oracle.docs[doc_id]
    yield index, oracle
    index.close()


def test_filters_sorting_paging_and_facets_equal_the_oracle(built) -> None:
    index, oracle = built
    assert len(index) == len(oracle.docs)
    check_searches(index, oracle, random.Random(1), SEARCHES)


def test_the_same_after_merging_into_one_segment(built, tmp_path: Path) -> None:
    index, oracle = built
    index.optimize()
    check_searches(index, oracle, random.Random(2), SEARCHES // 3)


def test_query_syntax_filters_equal_the_filter_argument(built) -> None:
    index, _ = built
    pairs = [
        ("tags:visa", {"tags": "visa"}),
        ("tags:Visa", {"tags": "Visa"}),
        ('author:"Ivan Petrov"', {"author": "Ivan Petrov"}),
        ("price:[10 TO 20.5]", {"price": (10, 20.5)}),
        ("qty:>=7", {"qty": (7, None)}),
        ("qty:3", {"qty": 3}),
        ("in_stock:false", {"in_stock": False}),
        ("published:2022", {"published": "2022"}),
        ("published:[2021-03 TO 2022]", {"published": ("2021-03", "2022")}),
    ]
    for text, filters in pairs:
        by_syntax = index.search(text, limit=5000, highlight=False)
        by_argument = index.search("", filter=filters, limit=5000, highlight=False)
        assert by_syntax.total == by_argument.total > 0, text
        assert [h.id for h in by_syntax] == [h.id for h in by_argument], text
    fewer = index.search("qty:>7", limit=5000)
    assert {h.id for h in fewer} == {h.id for h in index.search("qty:>=8", limit=5000)}
    assert all(h.fields["qty"] > 7 for h in fewer)
