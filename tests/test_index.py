"""The Index API on a real on-disk Whoosh index."""

from __future__ import annotations

import datetime as dt
import pickle
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import searchlib
from searchlib.analysis import LanguageAnalyzer


def doc(doc_id: str, body: str, title: str = "", **kwargs) -> searchlib.Document:
    return searchlib.Document(id=doc_id, title=title, body=body, **kwargs)


def test_add_detects_language_and_counts(empty_index: searchlib.Index) -> None:
    result = empty_index.add(
        [
            doc("a", "Президент Лаоса выразил поддержку укреплению отношений"),
            doc("b", "The foreign minister expressed his gratitude for the cooperation"),
            doc("c", "Utenriksministeren takket for det gode samarbeidet", lang="nb"),
        ]
    )
    assert (result.added, result.replaced) == (3, 0)
    assert result.languages == {"ru": 1, "en": 1, "no": 1}
    assert len(empty_index) == 3


def test_add_replaces_by_id(empty_index: searchlib.Index) -> None:
    empty_index.add([doc("a", "first version about volcanoes")])
    result = empty_index.add([doc("a", "second version about glaciers")])
    assert (result.added, result.replaced) == (0, 1)
    assert len(empty_index) == 1
    assert [h.id for h in empty_index.search("glaciers")] == ["a"]
    assert empty_index.search("volcanoes") == []


def test_duplicate_ids_in_one_batch_last_wins(empty_index: searchlib.Index) -> None:
    result = empty_index.add([doc("a", "volcanoes erupt"), doc("a", "glaciers melt")])
    assert result.duplicates == 1
    assert len(empty_index) == 1
    assert empty_index.search("volcanoes") == []


def test_delete(empty_index: searchlib.Index) -> None:
    empty_index.add([doc("a", "volcanoes erupt"), doc("b", "volcanoes sleep")])
    assert empty_index.delete(["a", "missing"]) == 1
    assert [h.id for h in empty_index.search("volcanoes")] == ["b"]
    assert len(empty_index) == 1


def test_create_refuses_an_existing_index(tmp_path: Path) -> None:
    searchlib.Index.create(tmp_path / "ix").close()
    with pytest.raises(searchlib.SearchlibError, match="already exists"):
        searchlib.Index.create(tmp_path / "ix")


def test_open_a_missing_index_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(searchlib.IndexNotFoundError, match=str(tmp_path / "nowhere")):
        searchlib.Index.open(tmp_path / "nowhere")


def test_document_validation() -> None:
    with pytest.raises(ValueError):
        searchlib.Document(id=" ", title="t", body="b")
    with pytest.raises(TypeError):
        searchlib.Document(id="x", title=None, body="b")  # type: ignore[arg-type]


def test_analyzers_pickle_by_language_code() -> None:
    analyzer = LanguageAnalyzer("ru")
    data = pickle.dumps(analyzer)
    assert b"pymorphy" not in data and len(data) < 200
    restored = pickle.loads(data)
    assert [t.text for t in restored("Лаоса")] == ["лаос"]


def test_index_reopens_in_a_fresh_process(tmp_path: Path) -> None:
    with searchlib.Index.create(tmp_path / "ix") as index:
        index.add([doc("a", "Посол вручил верительные грамоты", date=datetime(2024, 11, 22))])
    code = (
        "import searchlib, sys; ix = searchlib.Index.open(sys.argv[1]); "
        "h = ix.search('грамота')[0]; print(h.id, h.lang, h.date.year)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ix")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["a", "ru", "2024"]


def test_snippet_escapes_html(empty_index: searchlib.Index) -> None:
    empty_index.add([doc("x", "Click <script>alert('volcano')</script> & see the volcano erupt")])
    snippet = empty_index.search("volcano")[0].snippet
    assert "<script>" not in snippet
    assert "&lt;script&gt;" in snippet
    assert "<em>volcano</em>" in snippet


def test_search_on_empty_index(empty_index: searchlib.Index) -> None:
    assert empty_index.search("anything") == []
    assert len(empty_index) == 0


def test_unknown_language_documents_are_searchable(empty_index: searchlib.Index) -> None:
    empty_index.add([doc("vi", "Bộ trưởng Ngoại giao Bùi Thanh Sơn chủ trì tham vấn chính trị")])
    assert [h.id for h in empty_index.search("tham vấn chính trị")] == ["vi"]
    assert empty_index.search("tham vấn")[0].lang == "vi"


def test_stats(seed_index: searchlib.Index) -> None:
    stats = seed_index.stats()
    assert stats["documents"] == 5
    assert stats["languages"] == {"ru": 3, "no": 1, "ar": 1}
    assert stats["terms"] > 500 and stats["size_bytes"] > 0


def test_parallel_indexing_ranks_exactly_like_serial(tmp_path: Path) -> None:
    documents = [
        doc(f"d{i}", f"volcano eruption {i % 7} " * (1 + i % 5) + f"glacier {i % 3} lava flow {i}")
        for i in range(400)
    ] + [doc(f"r{i}", f"Вулкан извергся {i % 5} раз, ледник таял {i % 3} года") for i in range(200)]
    results = []
    for jobs in (1, 2):
        with searchlib.Index.create(tmp_path / f"ix{jobs}") as index:
            assert index.add(documents, jobs=jobs).added == 600
            assert len(index) == 600
            results.append(
                [
                    [(h.id, h.score) for h in index.search(text, limit=20)]
                    for text in ("volcano eruption", "glacier lava", "ледник", "вулкан извергся", "flow 17")
                ]
            )
    assert results[0] == results[1]
    assert all(results[0])


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_last_copy_of_an_id_wins_across_chunks_and_workers(tmp_path: Path, jobs: int) -> None:
    # 1,500 documents make three chunks, so copies of an id land in different chunks
    # and, with two jobs, in different workers' segments.
    with searchlib.Index.create(tmp_path / "ix") as index:
        index.add([doc("kept", "an unchanged volcano"), doc("old", "an outdated glacier")])
        first = [doc(f"d{i}", f"first draft {i}") for i in range(700)]
        second = [doc(f"d{i}", f"final text {i}") for i in range(700)]
        result = index.add(
            [*first, doc("old", "a revised glacier"), doc("kept", "an unchanged volcano"), *second],
            jobs=jobs,
        )
        assert (result.added, result.replaced, result.unchanged, result.duplicates) == (700, 1, 1, 700)
        assert len(index) == 702
        assert index.search('"first draft"') == []
        assert [h.id for h in index.search('"final text 699"', limit=1)] == ["d699"]
        assert [h.id for h in index.search("glacier")] == ["old"]
        assert "revised" in index.search("glacier")[0].snippet
        again = index.add([*second, doc("kept", "an unchanged volcano")], jobs=jobs)
        assert (again.added, again.replaced, again.unchanged) == (0, 0, 701)


def test_delete_takes_one_id_as_a_string(empty_index: searchlib.Index) -> None:
    empty_index.add(
        [searchlib.Document(id=i, title="", body=f"word {i}", lang="en") for i in ("1", "2", "12")]
    )
    assert empty_index.delete("12") == 1
    assert sorted(h.id for h in empty_index.search("word", limit=10)) == ["1", "2"]
    with pytest.raises(TypeError):
        empty_index.delete([1, 2])


def test_counts_and_languages_are_of_live_documents(empty_index: searchlib.Index) -> None:
    for _ in range(3):
        empty_index.add([searchlib.Document(id="d", title="", body=f"text {_}", lang="en")])
    assert len(empty_index) == 1 and empty_index.language_counts() == {"en": 1}
    assert empty_index.stats()["languages"] == {"en": 1}
    empty_index.delete("d")
    assert len(empty_index) == 0 and empty_index.language_counts() == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2024, 1, 2), dt.datetime(2024, 1, 2)),
        ("2024-01-02", dt.datetime(2024, 1, 2)),
        ("2024-01-02T10:30:00Z", dt.datetime(2024, 1, 2, 10, 30)),
        ("2024-01-02T13:30:00+03:00", dt.datetime(2024, 1, 2, 10, 30)),
        (
            dt.datetime(2024, 1, 2, 13, 30, tzinfo=dt.timezone(dt.timedelta(hours=3))),
            dt.datetime(2024, 1, 2, 10, 30),
        ),
    ],
)
def test_dates_are_taken_in_every_usual_form(empty_index: searchlib.Index, value, expected) -> None:
    doc = searchlib.Document(id="a", title="", body="river", lang="en", date=value)
    assert doc.date == expected
    empty_index.add([doc])
    hit = empty_index.search("river")[0]
    assert isinstance(hit.date, dt.datetime) and hit.date == expected


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("date", "yesterday", ValueError),
        ("date", 20240101, TypeError),
        ("lang", "klingon", ValueError),
        ("lang", "", ValueError),
        ("lang", 7, TypeError),
        ("source", 5, TypeError),
    ],
)
def test_bad_document_values_are_clear_errors(field: str, value, error) -> None:
    with pytest.raises(error, match=field):
        searchlib.Document(id="a", title="", body="", **{field: value})


def test_a_language_code_without_an_analyzer_uses_the_generic_one(empty_index: searchlib.Index) -> None:
    empty_index.add([searchlib.Document(id="sw", title="", body="Habari za asubuhi", lang="sw")])
    assert empty_index.language_counts() == {"sw": 1}
    assert [h.id for h in empty_index.search("asubuhi")] == ["sw"]
