"""Reading documents from files, including the files a user should not have given us."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from conftest import SEEDS

import searchlib
from searchlib.loading import Skipped, load_paths, parse_txt


def load(*paths: Path) -> tuple[list[searchlib.Document], list[Skipped]]:
    items = list(load_paths(paths))
    return (
        [i for i in items if isinstance(i, searchlib.Document)],
        [i for i in items if isinstance(i, Skipped)],
    )


def test_seed_format_title_date_source() -> None:
    docs, skipped = load(SEEDS)
    assert not skipped
    by_id = {d.id: d for d in docs}
    ru = by_id["000_a56dd54d2768551e.txt"]
    assert ru.title == "Президент Лаоса выразил поддержку укреплению казахско-лаосских отношений"
    assert ru.date == datetime(2024, 11, 22, 13, 11, 27)
    no = by_id["002_3a14a5f8f92bcbd2.txt"]
    assert no.source.startswith("https://baoquocte.vn/")
    assert "Kilde:" not in no.body
    assert no.title.startswith("Partiets sentralkomitésekretær")


def test_txt_without_date_or_source() -> None:
    document = parse_txt("\n\nTitle line\nbody text\n", "x")
    assert (document.title, document.body, document.date, document.source) == (
        "Title line",
        "body text",
        None,
        None,
    )


@pytest.mark.parametrize(
    "line",
    [
        "Source: https://example.org/a",
        "Источник: https://example.org/a",
        "مصدر: https://example.org/a",
    ],
)
def test_source_lines_in_several_languages(line: str) -> None:
    assert parse_txt(f"Title\nbody\n{line}\n", "x").source == "https://example.org/a"


def test_jsonl_good_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    lines = [
        json.dumps({"id": "1", "title": "One", "body": "first", "lang": "en", "date": "2024-01-02"}),
        json.dumps({"id": 2, "title": "Two", "text": "second", "source": "https://example.org"}),
        "{not json",
        json.dumps({"title": "no id"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "3", "title": 5, "body": "x"}),
        json.dumps({"id": "4", "title": "bad date", "body": "x", "date": "yesterday"}),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    docs, skipped = load(path)
    assert [d.id for d in docs] == ["1", "2"]
    assert docs[0].date == datetime(2024, 1, 2) and docs[0].lang == "en"
    assert docs[1].body == "second" and docs[1].source == "https://example.org"
    assert [s.path for s in skipped] == [f"{path}:{n}" for n in (3, 4, 5, 6, 7)]
    assert "id" in skipped[1].reason


def test_encodings_and_bad_files(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes("\ufeffЗаголовок\nтекст".encode())
    (tmp_path / "utf16.txt").write_bytes("Título\ntexto".encode("utf-16"))
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9\nbody".encode("latin-1"))
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "odd name ✓ [1].txt").write_text("Odd\nname", encoding="utf-8")
    (tmp_path / "ignored.pdf").write_bytes(b"%PDF")
    docs, skipped = load(tmp_path)
    assert {d.id: d.title for d in docs} == {
        "bom.txt": "Заголовок",
        "utf16.txt": "Título",
        "odd name ✓ [1].txt": "Odd",
    }
    assert {Path(s.path).name for s in skipped} == {"latin1.txt", "binary.txt", "empty.txt"}


def test_directories_recursively_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text("Deep\nbody", encoding="utf-8")
    docs, skipped = load(tmp_path, tmp_path / "missing.txt")
    assert [d.id for d in docs] == ["a/b/deep.txt"]
    assert skipped[0].reason == "no such file or directory"


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path)
    (tmp_path / "doc.txt").write_text("Title\nbody", encoding="utf-8")
    docs, _ = load(tmp_path)
    assert [d.id for d in docs] == ["doc.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("Title\nbody", encoding="utf-8")
    path.chmod(0)
    docs, skipped = load(path)
    assert not docs and skipped[0].path == str(path)


def test_a_file_over_the_size_limit_is_reported_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("Big\n" + "word " * 400_000, encoding="utf-8")  # 2 MB
    small = tmp_path / "small.txt"
    small.write_text("Small\nbody", encoding="utf-8")
    items = list(load_paths([tmp_path], max_bytes=1_000_000))
    docs = [i for i in items if isinstance(i, searchlib.Document)]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [d.id for d in docs] == ["small.txt"]
    assert skipped[0].path == str(big) and "limit" in skipped[0].reason


def test_files_of_the_same_name_in_different_folders_keep_apart(tmp_path: Path) -> None:
    for year in ("2023", "2024"):
        (tmp_path / "coll" / year).mkdir(parents=True)
        (tmp_path / "coll" / year / "notes.txt").write_text(f"Notes {year}\nbody", encoding="utf-8")
    docs, skipped = load(tmp_path / "coll")
    assert [d.id for d in docs] == ["2023/notes.txt", "2024/notes.txt"] and not skipped
    docs, _ = load(tmp_path / "coll" / "2024" / "notes.txt")
    assert [d.id for d in docs] == ["notes.txt"]  # a file given alone: its name


def test_jsonl_messages_quote_correctly_and_an_explicit_json_file_is_parsed(tmp_path: Path) -> None:
    (tmp_path / "mixed.jsonl").write_text('{"title": "no id"}\n{"id": "a", "body": "x", "lang": "klingon"}\n')
    (tmp_path / "c.json").write_text('{"id": "j", "title": "T", "body": "json body"}')
    docs, skipped = load(tmp_path / "mixed.jsonl", tmp_path / "c.json")
    assert [str(s) for s in skipped] == [
        f"{tmp_path / 'mixed.jsonl'}:1: missing 'id'",
        f"{tmp_path / 'mixed.jsonl'}:2: lang 'klingon' is not a language code "
        "(ISO 639-1 such as 'en', 'ru', 'pt-BR')",
    ]
    assert [(d.id, d.body) for d in docs] == [("j", "json body")]
