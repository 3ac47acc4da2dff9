"""The searchlib command, run as a real process, as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NO_ARTICLE, RU_ASEAN, SEEDS, searchlib_command


def run(*args: str, env_index: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SEARCHLIB_INDEX"}
    if env_index is not None:
        env["SEARCHLIB_INDEX"] = str(env_index)
    return subprocess.run(
        searchlib_command(*args),
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_first_query_builds_the_default_index_from_the_seeds(tmp_path: Path) -> None:
    index = tmp_path / "default"
    first = run("query", "АСЕАН", env_index=index)
    assert first.returncode == 0, first.stderr
    assert "indexing the bundled seeds" in first.stderr
    assert first.stdout.splitlines()[1].split()[0] == RU_ASEAN
    assert "**АСЕАН**" in first.stdout
    second = run("query", "АСЕАН", env_index=index)
    assert "indexing" not in second.stderr
    assert second.stdout == first.stdout


def test_query_json_prints_only_the_hits(tmp_path: Path) -> None:
    out = run("query", "naturkatastrofe", "--json", env_index=tmp_path / "ix")
    hits = json.loads(out.stdout)
    assert hits[0]["id"] == NO_ARTICLE
    assert set(hits[0]) == {"id", "score", "title", "lang", "snippet"}
    assert "<em>naturkatastrofene</em>" in hits[0]["snippet"]


def test_no_cross_script_flag(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    with_names = json.loads(run("query", "АСЕАН", "--json", env_index=index).stdout)
    without = json.loads(run("query", "АСЕАН", "--json", "--no-cross-script", env_index=index).stdout)
    assert len(with_names) == 3 and [h["id"] for h in without] == [RU_ASEAN]


def test_index_reports_and_skips_bad_files(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Volcanoes of Iceland\nEruptions are frequent.", encoding="utf-8")
    (corpus / "bad.txt").write_bytes(b"\xff\xfe\x00\x00garbage\x00")
    (corpus / "binary.txt").write_bytes(bytes(range(256)))
    index = tmp_path / "ix"
    out = run("index", str(corpus), "--index", str(index))
    assert out.returncode == 1
    assert "binary.txt" in out.stderr and "bad.txt" in out.stderr
    assert "Traceback" not in out.stderr
    assert "1 added" in out.stdout
    found = run("query", "volcano", "--index", str(index), "--json")
    assert [h["id"] for h in json.loads(found.stdout)] == ["good"]


def test_reindexing_skips_unchanged_files_and_replaces_changed_ones(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    index = tmp_path / "ix"
    assert run("index", str(corpus), "--index", str(index)).returncode == 0
    files_before = sorted(p.name for p in index.iterdir())
    again = run("index", str(corpus), "--index", str(index))
    assert again.returncode == 0
    assert "0 added, 0 replaced, 5 unchanged" in again.stdout
    assert sorted(p.name for p in index.iterdir()) == files_before  # nothing was written
    changed = corpus / f"{RU_ASEAN}.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nВулкан проснулся.", encoding="utf-8")
    third = run("index", str(corpus), "--index", str(index))
    assert "0 added, 1 replaced, 4 unchanged" in third.stdout
    found = json.loads(run("query", "вулкан", "--index", str(index), "--json").stdout)
    assert [h["id"] for h in found] == [RU_ASEAN]
    stats = json.loads(run("stats", "--index", str(index), "--json").stdout)
    assert stats["documents"] == 5


def test_query_on_missing_explicit_index_is_a_clear_error(tmp_path: Path) -> None:
    out = run("query", "x", "--index", str(tmp_path / "nowhere"))
    assert out.returncode == 2
    assert str(tmp_path / "nowhere") in out.stderr
    assert "Traceback" not in out.stderr


def test_analyze_shows_terms_and_offsets() -> None:
    out = run("analyze", "Президенту Лаоса", "--json")
    data = json.loads(out.stdout)
    assert data["lang"] == "ru"
    assert [(t["term"], t["start"], t["end"]) for t in data["tokens"]] == [
        ("президент", 0, 10),
        ("лаос", 11, 16),
    ]


def test_stats_text(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    run("index", str(SEEDS), "--index", str(index))
    out = run("stats", "--index", str(index))
    assert "documents: 5" in out.stdout and "ru: 3" in out.stdout


@pytest.mark.parametrize("args", [["query"], ["query", "x", "--limit", "zero"], ["frobnicate"]])
def test_usage_errors(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert "usage:" in out.stderr and "Traceback" not in out.stderr


def test_refuses_an_index_directory_others_can_write(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    run("index", str(SEEDS), "--index", str(index))
    index.chmod(0o777)
    refused = run("query", "Лаос", "--index", str(index))
    assert refused.returncode == 2 and "--trust-index" in refused.stderr
    trusted = run("query", "Лаос", "--index", str(index), "--trust-index")
    assert trusted.returncode == 0 and RU_ASEAN in trusted.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "searchlib"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "query" in out.stdout


def test_a_100_mb_document_is_reported_not_held_in_memory(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with (corpus / "huge.txt").open("w", encoding="utf-8") as huge:
        huge.write("Huge\n")
        for _ in range(100):
            huge.write("вулкан извергается " * 40_000 + "\n")  # 100 lines of ~1.4 MB
    assert (corpus / "huge.txt").stat().st_size > 100e6
    (corpus / "small.txt").write_text("Small\nglacier", encoding="utf-8")
    out = run("index", str(corpus), "--index", str(tmp_path / "ix"))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "huge.txt: 144 MB, over the 64 MB limit (--max-file-mb)" in out.stderr
    assert "1 added" in out.stdout and "1 skipped" in out.stdout


def test_max_file_size_option(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "big.txt").write_text("Big\n" + "volcano " * 200_000, encoding="utf-8")
    (corpus / "small.txt").write_text("Small\nglacier", encoding="utf-8")
    out = run("index", str(corpus), "--index", str(tmp_path / "ix"), "--max-file-mb", "1")
    assert out.returncode == 1
    assert "big.txt" in out.stderr and "limit" in out.stderr
    assert "1 added" in out.stdout


def test_a_directory_of_20_000_files(tmp_path: Path) -> None:
    corpus = tmp_path / "notes"
    for i in range(20_000):
        folder = corpus / f"{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"note-{i}.txt").write_text(
            f"Note {i}\nGlacier {i} melts slowly in the northern valley.\n", encoding="utf-8"
        )
    out = run("index", str(corpus), "--index", str(tmp_path / "ix"), "--jobs", "2")
    assert out.returncode == 0, out.stderr
    assert "20000 added" in out.stdout and "0 skipped" in out.stdout
    hits = json.loads(run("query", "glacier 19765", "--index", str(tmp_path / "ix"), "--json").stdout)
    assert hits[0]["id"] == "note-19765"
