"""The searchlib command, run as a real process, as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import NO_ARTICLE, RU_ASEAN, SEEDS, searchlib_command

import searchlib


def run(*args: str, env_index: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SEARCHLIB_INDEX"}
    if env_index is not None:
        env["SEARCHLIB_INDEX"] = str(env_index)
        env["XDG_CACHE_HOME"] = str(env_index.parent / "cache")  # where the demo index goes
    return subprocess.run(
        searchlib_command(*args),
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_first_query_searches_the_seeds_demo_without_filling_the_default_index(tmp_path: Path) -> None:
    index = tmp_path / "default"
    first = run("query", "АСЕАН", env_index=index)
    assert first.returncode == 0, first.stderr
    assert "indexing the bundled seeds" in first.stderr and "demo" in first.stderr
    assert first.stdout.splitlines()[1].split()[0] == RU_ASEAN
    assert "**АСЕАН**" in first.stdout
    assert not index.exists()  # the demo lives in the cache directory
    second = run("query", "АСЕАН", env_index=index)
    assert "indexing" not in second.stderr
    assert second.stdout == first.stdout
    stats = run("stats", env_index=index)
    assert stats.returncode == 0 and "documents: 0" in stats.stdout
    note = tmp_path / "note.txt"
    note.write_text("Glaciers\nThe glacier melts.\n", encoding="utf-8")
    assert run("index", str(note), env_index=index).returncode == 0
    own = run("query", "АСЕАН", env_index=index)  # the user's index: no seeds in it
    assert own.returncode == 1 and "no documents found" in own.stdout and "demo" not in own.stderr
    assert run("query", "glacier", env_index=index).returncode == 0


@pytest.fixture(scope="module")
def seeds_ix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the seeds, built once for the tests that only read it."""
    path = tmp_path_factory.mktemp("cli-seeds") / "ix"
    assert run("index", str(SEEDS), "--index", str(path)).returncode == 0
    return path


def test_query_json_prints_the_total_the_hits_and_the_facets(seeds_ix: Path) -> None:
    out = run("query", "naturkatastrofe", "--json", "--index", str(seeds_ix))
    found = json.loads(out.stdout)
    assert set(found) == {"total", "hits", "facets"} and found["facets"] == {}
    hits = found["hits"]
    assert found["total"] == len(hits) >= 1 and hits[0]["id"] == NO_ARTICLE
    assert set(hits[0]) == {
        "id",
        "score",
        "title",
        "lang",
        "date",
        "source",
        "snippet",
        "fields",
        "highlights",
    }
    assert hits[0]["source"].startswith("https://") and hits[0]["date"] is None
    assert "<em>naturkatastrofene</em>" in hits[0]["snippet"]


def test_no_cross_script_flag(seeds_ix: Path) -> None:
    with_names = json.loads(run("query", "АСЕАН", "--json", "--index", str(seeds_ix)).stdout)["hits"]
    without = json.loads(
        run("query", "АСЕАН", "--json", "--no-cross-script", "--index", str(seeds_ix)).stdout
    )["hits"]
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
    assert [h["id"] for h in json.loads(found.stdout)["hits"]] == ["good.txt"]


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
    changed = corpus / RU_ASEAN
    changed.write_text(changed.read_text(encoding="utf-8") + "\nВулкан проснулся.", encoding="utf-8")
    third = run("index", str(corpus), "--index", str(index))
    assert "0 added, 1 replaced, 4 unchanged" in third.stdout
    found = json.loads(run("query", "вулкан", "--index", str(index), "--json").stdout)["hits"]
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


@pytest.mark.parametrize("plant", ["world-writable", "sticky", "writable-toc", "foreign-owner"])
def test_refuses_an_index_others_could_have_changed(tmp_path: Path, plant: str) -> None:
    index = tmp_path / "ix"
    run("index", str(SEEDS), "--index", str(index))
    toc = next(index.glob("_searchlib_*.toc"))
    if plant == "world-writable":
        index.chmod(0o777)
    elif plant == "sticky":
        index.chmod(0o1777)  # anyone may add a newer table of contents
    elif plant == "writable-toc":
        toc.chmod(0o666)
    elif os.geteuid() == 0:
        os.chown(index, 65534, 65534)
    else:
        pytest.skip("making a directory another user's needs root")
    refused = run("query", "Лаос", "--index", str(index))
    assert refused.returncode == 2 and "--trust-index" in refused.stderr and "Traceback" not in refused.stderr
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


def test_a_directory_of_4_000_files_is_indexed_by_a_worker_per_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "notes"
    for i in range(4_000):
        folder = corpus / f"{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"note-{i}.txt").write_text(
            f"Note {i}\nGlacier {i} melts slowly in the northern valley, far from the sea.\n",
            encoding="utf-8",
        )
    assert searchlib.workers.AUTO_JOBS_CHARS < 4_000 * 70  # enough text for workers, without --jobs
    monkeypatch.delenv("SEARCHLIB_JOBS", raising=False)  # this test's index may use every core
    out = run("index", str(corpus), "--index", str(tmp_path / "ix"))
    assert out.returncode == 0, out.stderr
    assert "4000 added" in out.stdout and "0 skipped" in out.stdout
    segments = len(list((tmp_path / "ix").glob("*.seg")))
    assert segments == min(len(os.sched_getaffinity(0)), searchlib.workers.MAX_AUTO_JOBS)
    hits = json.loads(run("query", "glacier 3765", "--index", str(tmp_path / "ix"), "--json").stdout)["hits"]
    assert hits[0]["id"] == "003/note-3765.txt"


# -- conventions of grep, ripgrep and sqlite3 -----------------------------------------------


def test_unquoted_words_join_into_one_query_and_no_hits_exits_1(seeds_ix: Path) -> None:
    ix = seeds_ix
    joined = run("query", "прямое", "авиасообщение", "--json", "--index", str(ix))
    quoted = run("query", "прямое авиасообщение", "--json", "--index", str(ix))
    assert joined.returncode == 0 and joined.stdout == quoted.stdout
    nothing = run("query", "zzzqqq", "--index", str(ix))
    assert nothing.returncode == 1 and "no documents found" in nothing.stdout


def test_version() -> None:
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("searchlib ")


def test_color_and_no_color(seeds_ix: Path) -> None:
    ix = seeds_ix
    always = run("query", "АСЕАН", "--color", "always", "--index", str(ix))
    never = run("query", "АСЕАН", "--color", "never", "--index", str(ix))
    assert "\033[1mАСЕАН\033[0m" in always.stdout and "\033" not in never.stdout
    assert "**АСЕАН**" in never.stdout


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    docs = tmp_path / "docs.jsonl"
    record = {
        "id": "e\x1b[2J",
        "title": "Evil \x1b[2J\x1b]8;;http://x\x07link\x1b]8;;\x07",
        "body": "glacier \x1b[31mred",
    }
    docs.write_text(json.dumps(record) + "\n", encoding="utf-8")
    ix = tmp_path / "ix"
    assert run("index", str(docs), "--index", str(ix)).returncode == 0
    out = run("query", "glacier", "--color", "always", "--index", str(ix))
    printed = out.stdout.replace("\033[1m", "").replace("\033[0m", "")
    assert out.returncode == 0 and "\x1b" not in printed and "\x07" not in printed
    assert "Evil" in printed and "glacier" in printed


def test_standard_input_as_jsonl_or_text(tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    lines = "\n".join(json.dumps({"id": f"s{i}", "title": "t", "body": f"volcano {i}"}) for i in range(3))
    out = subprocess.run(
        searchlib_command("index", "-", "--index", str(ix)), input=lines, capture_output=True, text=True
    )
    assert out.returncode == 0 and "3 added" in out.stdout, out.stderr
    text = subprocess.run(
        searchlib_command("index", "-", "--format", "text", "--index", str(ix)),
        input="A note\nabout glaciers\n",
        capture_output=True,
        text=True,
    )
    assert text.returncode == 0 and "1 added" in text.stdout
    hits = json.loads(run("query", "glaciers", "--json", "--index", str(ix)).stdout)["hits"]
    assert [h["id"] for h in hits] == ["stdin"]


def test_hidden_files_are_skipped_unless_asked_and_suffixes_decide(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / ".git").mkdir(parents=True)
    (corpus / ".git" / "config.txt").write_text("Hidden\nglacier\n", encoding="utf-8")
    (corpus / ".hidden.txt").write_text("Hidden\nglacier\n", encoding="utf-8")
    (corpus / "readme.md").write_text("Readme\nglacier\n", encoding="utf-8")
    (corpus / "docs.json").write_text(
        json.dumps([{"id": "j1", "title": "", "body": "glacier"}]), encoding="utf-8"
    )
    (corpus / "data.csv").write_text("a,b\nglacier,1\n", encoding="utf-8")
    ix = tmp_path / "ix"
    assert run("index", str(corpus), "--index", str(ix)).returncode == 0
    found = {
        h["id"] for h in json.loads(run("query", "glacier", "--json", "--index", str(ix)).stdout)["hits"]
    }
    assert found == {"readme.md", "j1"}
    run("index", str(corpus), "--hidden", "--index", str(ix))
    found = {
        h["id"] for h in json.loads(run("query", "glacier", "--json", "--index", str(ix)).stdout)["hits"]
    }
    assert found == {"readme.md", "j1", ".git/config.txt", ".hidden.txt"}


def test_a_missing_path_is_an_error_before_any_index_is_made(tmp_path: Path) -> None:
    out = run("index", str(tmp_path / "typo"), "--index", str(tmp_path / "ix"))
    assert out.returncode == 2 and "typo" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "ix").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["index", "x", "--max-file-mb", "-1"],
        ["index", "x", "--max-file-mb", "nan"],
        ["index", "x", "--index", ""],
        ["query", "x", "--lang", "klingon"],
        ["index", "x", "--lock-timeout", "-5"],
    ],
)
def test_absurd_option_values_are_usage_errors(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode == 2 and "error: argument" in out.stderr


def test_delete_and_optimize_commands(tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    run("index", str(SEEDS), "--index", str(ix))
    run("index", str(SEEDS / NO_ARTICLE), "--index", str(ix))  # a second segment
    out = run("delete", NO_ARTICLE, "missing-id", "--index", str(ix))
    assert out.returncode == 1 and "1 of 2 deleted" in out.stdout
    assert run("optimize", "--index", str(ix)).returncode == 0
    stats = json.loads(run("stats", "--json", "--index", str(ix)).stdout)
    assert stats["documents"] == 4 and "no" not in stats["languages"]


def test_an_interrupted_run_keeps_its_commits_and_a_rerun_goes_on(tmp_path: Path) -> None:
    docs = tmp_path / "docs.jsonl"
    docs.write_text(
        "\n".join(
            json.dumps({"id": f"d{i}", "title": "", "body": f"glacier {i} " * 100}) for i in range(1500)
        ),
        encoding="utf-8",
    )
    ix = tmp_path / "ix"
    writer = subprocess.Popen(
        searchlib_command("index", str(docs), "--index", str(ix), "--commit-every", "200"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120

    def generation() -> int:  # of the index's newest table of contents: 0 when created
        return max((int(toc.stem.rsplit("_", 1)[1]) for toc in ix.glob("_searchlib_*.toc")), default=-1)

    while time.monotonic() < deadline and generation() < 2:
        time.sleep(0.05)  # until two commits of 200 are in
    writer.kill()
    writer.wait()
    kept = json.loads(run("stats", "--json", "--index", str(ix)).stdout)["documents"]
    assert 400 <= kept < 1500 and kept % 200 == 0  # whole commits only
    again = run("index", str(docs), "--index", str(ix), "--commit-every", "200")
    assert again.returncode == 0, again.stderr
    assert f"{1500 - kept} added, 0 replaced, {kept} unchanged" in again.stdout
    assert json.loads(run("stats", "--json", "--index", str(ix)).stdout)["documents"] == 1500


def test_standard_input_over_the_size_limit_is_reported_not_read_whole(tmp_path: Path) -> None:
    out = subprocess.run(
        searchlib_command(
            "index", "-", "--format", "text", "--max-file-mb", "0.001", "--index", str(tmp_path / "ix")
        ),
        input="Title\n" + "glacier " * 1000,
        capture_output=True,
        text=True,
    )
    assert (
        out.returncode == 1 and "-: over the 0.001 MB limit" in out.stderr and "Traceback" not in out.stderr
    )


def test_commit_every_takes_documents_or_megabytes(tmp_path: Path) -> None:
    from searchlib.cli import CommitSize, _commit_size

    assert _commit_size("500") == CommitSize(documents=500)
    assert _commit_size("2MB") == _commit_size("2 mb") == CommitSize(megabytes=2.0)
    documents = iter(searchlib.Document(id=str(n), title="", body="x" * 400_000) for n in range(12))
    sizes = []
    while batch := list(CommitSize(megabytes=1.0).batch(documents)):
        sizes.append(len(batch))
    assert sizes == [3, 3, 3, 3]  # each batch ends with the document that reaches 1 MB
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(f'{{"id": "d{n}", "body": "{"glacier " * 30_000}"}}\n' for n in range(6)), encoding="utf-8"
    )
    out = run("index", str(corpus), "--index", str(tmp_path / "ix"), "--commit-every", "0.5MB")
    assert out.returncode == 0, out.stderr
    tocs = sorted((tmp_path / "ix").glob("_searchlib_*.toc"))
    assert tocs[-1].name == "_searchlib_2.toc"  # two commits of three 240 KB documents
    bad = run("index", str(corpus), "--commit-every", "lots")
    assert bad.returncode == 2 and "--commit-every" in bad.stderr
