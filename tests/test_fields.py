"""Declared fields as a user meets them: declaring, checking values, searching, the CLI,
and indexes of earlier releases (the oracle of test_fields_oracle.py checks the answers)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from conftest import FIXTURES_DIR, searchlib_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import fields

Document = searchlib.Document
CATALOGUE = {
    "tags": fields.Keyword(multiple=True, facet=True),
    "price": fields.Numeric(float, sortable=True),
    "notes": fields.Text(boost=2.0),
    "in_stock": fields.Boolean(),
}


@pytest.fixture
def shop(tmp_path: Path) -> searchlib.Index:
    index = searchlib.Index.create(tmp_path / "shop", fields=CATALOGUE)
    index.add(
        [
            Document(
                "a",
                "Ferry ticket",
                "Overnight ferry to Kiel",
                lang="en",
                date="2024-05-01",
                fields={"tags": ["ferry", "travel"], "price": 120.5, "in_stock": True},
            ),
            Document(
                "b",
                "Visa guide",
                "Visas for ASEAN countries",
                lang="en",
                date="2024-06-01",
                fields={"tags": ["visa", "travel"], "price": 15, "notes": "ferry connections listed"},
            ),
            Document(
                "c", "Harbour map", "Map of the harbour", lang="en", fields={"price": 3.0, "in_stock": False}
            ),
        ]
    )
    yield index
    index.close()


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({"title": fields.Keyword()}, "searchlib's own"),
        ({"body_ru": fields.Keyword()}, "searchlib's own"),
        ({"9lives": fields.Keyword()}, "must start with a letter"),
        ({"tags": "keyword"}, "expected a field of searchlib.fields"),
        ({"a b": fields.Boolean()}, "must start with a letter"),
    ],
)
def test_a_wrong_declaration_is_refused_naming_the_field(tmp_path: Path, declared, message) -> None:
    with pytest.raises(searchlib.SearchlibError, match=message):
        searchlib.Index.create(tmp_path / "index", fields=declared)
    assert not (tmp_path / "index").exists() or not any((tmp_path / "index").iterdir())


def test_fields_are_kept_with_the_index(shop: searchlib.Index) -> None:
    with searchlib.Index.open(shop.path) as reopened:
        assert reopened.fields == CATALOGUE


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"price": "cheap"}, "document 'x': field 'price': expected a number"),
        ({"tags": [1]}, "document 'x': field 'tags': expected text"),
        ({"in_stock": "yes"}, "document 'x': field 'in_stock': expected true or false"),
        ({"colour": "red"}, "document 'x': field 'colour' is not declared"),
        ({"price": float("nan")}, "finite"),
    ],
)
def test_a_bad_value_names_the_document_and_the_field_and_writes_nothing(
    shop: searchlib.Index, values, message
) -> None:
    good = Document("y", "fine", "a fine document", lang="en")
    with pytest.raises(searchlib.SearchlibError, match=message):
        shop.add([good, Document("x", "t", "b", lang="en", fields=values)])
    assert len(shop) == 3 and "y" not in shop


def test_hits_carry_their_fields_and_text_fields_rank_and_highlight(shop: searchlib.Index) -> None:
    found = shop.search("ferry", facets=["tags", "in_stock", "lang"])
    assert [h.id for h in found] == ["a", "b"] and found.total == 2
    assert found[0].fields == {"tags": ["ferry", "travel"], "price": 120.5, "in_stock": True}
    assert found[1].highlights == {"notes": "<em>ferry</em> connections listed"}
    assert found.facets == {
        "tags": {"travel": 2, "ferry": 1, "visa": 1},
        "in_stock": {True: 1},
        "lang": {"en": 2},
    }
    assert [h.id for h in shop.search("notes:ferry")] == ["b"]


def test_an_empty_query_with_a_filter_lists_newest_first_and_pages(shop: searchlib.Index) -> None:
    listed = shop.search("", filter={"price": (None, 200)})
    assert [h.id for h in listed] == ["b", "a", "c"] and listed.total == 3
    page = shop.search("", filter={"price": (None, 200)}, sort="-price", offset=1, limit=1)
    assert [h.id for h in page] == ["b"] and page.total == 3
    assert shop.search("").total == 0  # no text, no filter: nothing asked for


def test_adding_a_field_later_needs_no_reindexing(shop: searchlib.Index) -> None:
    shop.add_field("colour", fields.Keyword(facet=True))
    assert "colour" in shop.fields
    shop.add([Document("d", "Red ferry", "A red ferry", lang="en", fields={"colour": "red"})])
    assert [h.id for h in shop.search("", filter={"colour": "red"})] == ["d"]
    assert shop.search("ferry", facets=["colour"]).facets == {"colour": {"red": 1}}
    assert shop.search("harbour")[0].fields == {"price": 3.0, "in_stock": False}
    shop.optimize()  # segments with and without the new column merge into one
    assert shop.search("ferry", facets=["colour"]).facets == {"colour": {"red": 1}}
    assert [h.id for h in shop.search("", filter={"price": (0, 1000)}, sort="-price")] == ["a", "b", "c"]
    with pytest.raises(searchlib.SearchlibError, match="exists already"):
        shop.add_field("colour", fields.Keyword())


def test_changing_only_a_field_replaces_the_document(shop: searchlib.Index) -> None:
    result = shop.add([Document("c", "Harbour map", "Map of the harbour", lang="en", fields={"price": 4.0})])
    assert result.replaced == 1 and shop.search("harbour")[0].fields == {"price": 4.0}
    again = shop.add([Document("c", "Harbour map", "Map of the harbour", lang="en", fields={"price": 4.0})])
    assert again.unchanged == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"filter": {"notes": "x"}}, "free text"),
        ({"filter": {"nope": 1}}, "no such field"),
        ({"filter": {"tags": ("a", "b")}}, "ranges are for numbers and dates"),
        ({"filter": {"price": "x"}}, "not a number"),
        ({"sort": "tags"}, "not sortable"),
        ({"sort": "nope"}, "no field 'nope'"),
        ({"facets": ["price"]}, "cannot count"),
        ({"offset": -1}, "offset"),
    ],
)
def test_wrong_search_arguments_are_query_errors(shop: searchlib.Index, arguments, message) -> None:
    with pytest.raises(searchlib.QueryError, match=message):
        shop.search("ferry", **arguments)


def test_dates_filter_as_periods_and_instants(tmp_path: Path) -> None:
    with searchlib.Index.create(tmp_path / "ix", fields={"sent": fields.Date(sortable=True)}) as index:
        index.add(
            [
                Document(str(n), f"mail {n}", "hello", lang="en", fields={"sent": f"2024-0{n}-15T10:00:00"})
                for n in range(1, 7)
            ]
        )
        assert index.search("", filter={"sent": "2024-03"}).total == 1
        assert index.search("", filter={"sent": ("2024-02", "2024-04")}).total == 3
        assert index.search("", filter={"sent": datetime(2024, 5, 15, 10)}).total == 1
        assert [h.id for h in index.search("hello", sort="sent", limit=2)] == ["1", "2"]
        assert index.search("sent:>2024-04").total == 2


@pytest.mark.parametrize("fixture", sorted(FIXTURES_DIR.glob("index-*")), ids=lambda p: p.name)
def test_an_index_of_an_earlier_release_searches_with_filters_and_takes_fields(
    fixture: Path, tmp_path: Path
) -> None:
    copy = tmp_path / fixture.name
    shutil.copytree(fixture, copy)
    with searchlib.Index.open(copy) as index:
        assert index.fields == {}
        russian = index.search("", filter={"lang": "ru"}, facets=["lang"])
        count = index.language_counts()["ru"]
        assert russian.total == count >= 2 and russian.facets == {"lang": {"ru": count}}
        index.add_field("tags", fields.Keyword(multiple=True, facet=True))
        index.add([Document("new", "Vientiane", "About Vientiane", lang="en", fields={"tags": ["laos"]})])
        assert [h.id for h in index.search("tags:laos")] == ["new"]
        assert len(index) == 6


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(searchlib_command(*args), capture_output=True, text=True, input=stdin, timeout=300)


def test_cli_declares_fields_fills_them_from_jsonl_and_queries_them(tmp_path: Path) -> None:
    data = tmp_path / "products.jsonl"
    records = [
        {
            "id": "p1",
            "title": "Ferry ticket",
            "body": "Overnight ferry",
            "lang": "en",
            "tags": ["ferry", "travel"],
            "price": 120.5,
            "colour": "blue",
            "size": "L",
        },
        {
            "id": "p2",
            "title": "Visa guide",
            "body": "Visas for travel",
            "lang": "en",
            "tags": ["visa", "travel"],
            "price": 15,
            "colour": "red",
        },
        {"id": "p3", "title": "Bad price", "body": "ferry", "lang": "en", "price": "cheap"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    index = str(tmp_path / "ix")
    made = run("index", str(data), "--index", index, "--field", "tags:keyword+", "--field", "price:float")
    assert made.returncode == 1  # a record was skipped
    assert "2 added" in made.stdout
    assert "p3" in made.stderr and "field 'price'" in made.stderr
    assert made.stderr.count("not fields of the index") == 1 and "colour, size" in made.stderr
    found = run(
        "query",
        "",
        "--index",
        index,
        "--filter",
        "tags=travel",
        "--facet",
        "tags",
        "--sort",
        "-price",
        "--json",
    )
    assert found.returncode == 0, found.stderr
    answer = json.loads(found.stdout)
    assert answer["total"] == 2 and [h["id"] for h in answer["hits"]] == ["p1", "p2"]
    assert answer["facets"] == {"tags": {"travel": 2, "ferry": 1, "visa": 1}}
    assert answer["hits"][0]["fields"] == {"tags": ["ferry", "travel"], "price": 120.5}
    paged = run(
        "query",
        "",
        "--index",
        index,
        "--filter",
        "price=10..20",
        "--filter",
        "tags=visa",
        "--offset",
        "0",
        "--facet",
        "tags",
        "--color",
        "never",
    )
    assert paged.returncode == 0, paged.stderr
    assert "Visa guide" in paged.stdout and "1 document found" in paged.stdout
    assert "tags: travel 1, visa 1" in paged.stdout
    wrong = run("query", "x", "--index", index, "--filter", "colour=red")
    assert wrong.returncode == 2 and "colour" in wrong.stderr and "Traceback" not in wrong.stderr
    clash = run("index", str(data), "--index", index, "--field", "tags:keyword")
    assert clash.returncode == 2 and "declares tags" in clash.stderr


def test_every_text_fields_total_length_is_its_live_documents(tmp_path: Path) -> None:
    """BM25's average field lengths: the names field spans every language, a declared text
    field with an underscore in its name (``my_notes_ru``) only its own."""
    with searchlib.Index.create(tmp_path / "ix", fields={"my_notes": fields.Text()}) as index:
        index.add(
            [
                Document(
                    "1",
                    "Laos and Vietnam",
                    "Leaders of ASEAN met in Vientiane",
                    lang="en",
                    fields={"my_notes": "notes about Laos"},
                ),
                Document(
                    "2", "Лаос", "Лидеры АСЕАН встретились", lang="ru", fields={"my_notes": "заметки о Лаосе"}
                ),
                Document("3", "Gone", "Deleted before the check", lang="en", fields={"my_notes": "gone"}),
            ]
        )
        index.delete("3")
        snapshot = index._snapshot()
        reader, documents = snapshot.searcher.reader(), snapshot.documents
        live = list(reader.all_doc_ids())
        for field in ["names", "title_en", "body_ru", "my_notes_en", "my_notes_ru"]:
            expected = sum(reader.doc_field_length(d, field) or 0 for d in live)
            assert documents.field_length(field) == expected > 0, field


@pytest.mark.parametrize(
    "arguments",
    [
        {"sort": 5},
        {"facets": 5},
        {"sort": ["title"] * 17},
        {"filter": {"tags": [f"t{n}" for n in range(1025)]}},
        {"filter": "tags=visa"},
        {"filter": {"tags": ["visa", None]}},
        {"filter": {"price": object()}},
        {"filter": {1: "x"}},
        {"limit": 2.5},
    ],
)
def test_hostile_search_arguments_are_query_errors(shop: searchlib.Index, arguments) -> None:
    with pytest.raises(searchlib.QueryError):
        shop.search("ferry", **arguments)


def test_a_declaration_this_version_cannot_read_is_a_clear_error(shop: searchlib.Index) -> None:
    from searchlib.storage import open_whoosh

    writer = open_whoosh(shop.path).writer()
    setattr(writer.schema["tags"], fields.DECLARATION, {"kind": "vector", "dimensions": 3})
    writer.commit()
    with searchlib.Index.open(shop.path) as index, pytest.raises(searchlib.SearchlibError, match="'tags'"):
        index.search("ferry")
    out = run("query", "ferry", "--index", str(shop.path))
    assert out.returncode == 2 and "cannot read" in out.stderr and "Traceback" not in out.stderr


# -- as an attacker: any query text, any filter, any sort -------------------------------


PIECES = st.sampled_from(
    ["tags:", "price:", "in_stock:", "notes:", "date:", "lang:", "[", "]", "{", "}", " TO ", "*", ">", "<=",
     "=", '"', "(", ")", "NOT ", " OR ", "-", "+", "1", "2.5", "1e999", "-3", "visa", "ferry", "2024-01",
     "true", "nan", ":", " "]
)  # fmt: skip
QUERIES = st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=12).map("".join)
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
    st.lists(st.one_of(st.text(max_size=4), st.integers()), max_size=3),
    st.tuples(st.one_of(st.none(), st.integers(), st.text(max_size=8)), st.one_of(st.none(), st.floats())),
)  # fmt: skip
FILTERS = st.dictionaries(
    st.sampled_from(["tags", "price", "in_stock", "notes", "lang", "date", "nope", ""]), VALUES
)
SORTS = st.one_of(
    st.none(), st.sampled_from(["price", "-price", "tags", "-date", "title", "score", "", "--"])
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=QUERIES, filters=FILTERS, sort=SORTS, offset=st.integers(-2, 5))
def test_any_query_filter_and_sort_answers_or_is_a_query_error(shop, text, filters, sort, offset) -> None:
    try:
        found = shop.search(
            text, filter=filters or None, sort=sort, offset=offset, facets=["tags", "in_stock"]
        )
    except searchlib.QueryError:
        return
    assert 0 <= len(found) <= found.total and set(found.facets) == {"tags", "in_stock"}
    assert len({hit.id for hit in found}) == len(found)


FIELD_VALUES = st.dictionaries(
    st.sampled_from(["tags", "price", "in_stock", "notes", "nope"]),
    st.one_of(
        VALUES, st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.dates(), st.datetimes()
    ),
    max_size=4,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=FIELD_VALUES)
def test_any_field_values_are_indexed_or_refused_naming_the_field(shop, values) -> None:
    document = Document("fuzz", "Fuzz", "fuzzed values", lang="en", fields=values)
    try:
        shop.add([document])
    except searchlib.SearchlibError as error:
        assert "document 'fuzz': field '" in str(error)
        return
    stored = shop.document("fuzz")
    assert set(stored.fields) == {name for name, value in values.items() if value is not None}


@settings(max_examples=300, deadline=None)
@given(items=st.lists(st.text(max_size=12), max_size=4))
def test_any_filter_argument_is_read_or_is_a_query_error(items: list[str]) -> None:
    from searchlib import filters, syntax

    kinds = {**syntax.BUILTIN_KINDS, "price": "numeric", "tags": "keyword", "ok": "boolean", "notes": "text"}
    with contextlib.suppress(searchlib.QueryError):
        filters.filter_nodes(filters.from_arguments(items, kinds), kinds)
