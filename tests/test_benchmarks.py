"""The benchmark scripts run end to end on tiny data, so they cannot rot unnoticed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO


def run_module(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")


@pytest.fixture
def tiny_xquad(tmp_path: Path) -> Path:
    """Six paragraphs in three languages with one question each, in XQuAD's layout."""
    data = tmp_path / "xquad"
    data.mkdir()
    paragraphs = {
        "en": ["The volcano erupted near the fishing village.", "The parliament passed the budget law."],
        "ru": ["Вулкан извергся рядом с рыбацкой деревней.", "Парламент принял закон о бюджете."],
        "de": [
            "Der Vulkan brach nahe dem Fischerdorf aus.",
            "Das Parlament verabschiedete das Haushaltsgesetz.",
        ],
    }
    questions = {
        "en": ["Where did the volcano erupt?", "Which law did parliament pass?"],
        "ru": ["Где извергся вулкан?", "Какой закон принял парламент?"],
        "de": ["Wo brach der Vulkan aus?", "Welches Gesetz verabschiedete das Parlament?"],
    }
    corpus, queries, qrels = [], [], []
    for lang, texts in paragraphs.items():
        for n, text in enumerate(texts):
            doc_id = f"xq-{lang}-00-0{n}"
            corpus.append({"id": doc_id, "lang": lang, "title": "", "text": text})
            squad_id = f"5733be284776f4190066117{8 + n}"  # ids ending 8, 9: held out
            queries.append({"id": f"{squad_id}-{lang}", "lang": lang, "text": questions[lang][n]})
            qrels.append(f"{squad_id}-{lang}\t{doc_id}\t1")
    write_jsonl(data / "corpus.jsonl", corpus)
    write_jsonl(data / "queries.jsonl", queries)
    (data / "qrels.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
    return data


def test_quality_benchmark_on_a_tiny_corpus(tiny_xquad: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "quality.json"
    out = run_module(
        "benchmarks.quality",
        "--xquad",
        str(tiny_xquad),
        "--skip-norquad",
        "--no-baselines",
        "--out",
        str(out_file),
    )
    assert out.returncode == 0, out.stderr
    results = json.loads(out_file.read_text())["xquad"]["results"]["searchlib"]
    assert results["macro"]["mrr10"] == 1.0
    assert set(results) >= {"en", "ru", "de", "macro"}


def test_index_benchmark_on_a_tiny_corpus(tiny_xquad: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "bench_index.json"
    out = run_module(
        "benchmarks.bench_index", "--data", str(tiny_xquad), "--scales", "2", "--repeats", "1",
        "--queries", "4", "--out", str(out_file),
        "--systems", "searchlib,searchlib (lang unknown) --jobs 1,Whoosh StandardAnalyzer,SQLite FTS5",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    results = json.loads(out_file.read_text())["results"]["2x"]
    assert results["searchlib"]["documents"] == 12
    assert results["searchlib"]["rerun_unchanged"] == 12
    assert results["searchlib (lang unknown) --jobs 1"]["documents"] == 12
    assert results["Whoosh StandardAnalyzer"]["mb_per_s"] > 0
    assert results["SQLite FTS5"]["index_mb"] > 0 and results["SQLite FTS5"]["p50_ms"] >= 0


def test_load_benchmark_on_a_tiny_corpus(tiny_xquad: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "load.json"
    out = run_module(
        "benchmarks.bench_load", "--data", str(tiny_xquad), "--readers", "2", "--seconds", "2",
        "--batch", "2", "--out", str(out_file),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    figures = json.loads(out_file.read_text())
    assert figures["queries"] > 0 and figures["commits"] > 0
    assert figures["errors"] == 0, figures["error_examples"]  # what a reader's search raised
    assert figures["writer_errors"] == 0, figures


def test_analyzer_quality_benchmark_on_tiny_treebanks(tmp_path: Path) -> None:
    rows = {
        "ru_gsd": [("Лаос", "Лаос"), ("Лаоса", "Лаос"), ("столы", "стол"), ("стола", "стол")],
        "no_bokmaal": [("husene", "hus"), ("huset", "hus"), ("flommene", "flom"), ("flommen", "flom")],
        "ar_pud": [("الوزير", "وزير"), ("وزير", "وزير"), ("للكتاب", "كتاب"), ("كتاب", "كتاب")],
    }
    for name, pairs in rows.items():
        lines = ["form\tlemma\tupos", *(f"{form}\t{lemma}\tNOUN" for form, lemma in pairs)]
        (tmp_path / f"{name}-test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out_file = tmp_path / "aq.json"
    out = run_module("benchmarks.analyzer_quality", "--data", str(tmp_path), "--out", str(out_file))
    assert out.returncode == 0, out.stderr
    results = json.loads(out_file.read_text())["results"]
    assert results["ru"]["searchlib"]["f1"] == 1.0
    assert results["no"]["searchlib"]["f1"] == 1.0
    assert results["ar"]["searchlib"]["f1"] == 1.0


def test_integrity_benchmark_on_tiny_data(tiny_xquad: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "sp.json"
    out = run_module(
        "benchmarks.bench_integrity", "--data", str(tiny_xquad), "--repeats", "2", "--out", str(out_file)
    )
    assert out.returncode == 0, out.stderr
    results = json.loads(out_file.read_text())["results"]
    assert set(results) == {"open", "search", "commit"} and all(r["ratio"] > 0 for r in results.values())


def test_revisions_benchmark_compares_two_checkouts(tiny_xquad: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "rev.json"
    out = run_module(
        "benchmarks.bench_revisions", str(REPO), "--data", str(tiny_xquad), "--repeats", "1",
        "--queries", "5", "--out", str(out_file),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    results = json.loads(out_file.read_text())["results"]
    assert set(results) == {"open_s", "search_s", "commit_s"}
    assert all(r["now"] > 0 and r["before"] > 0 for r in results.values())


def test_fields_benchmark_on_a_tiny_corpus(tiny_xquad: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "fields.json"
    out = run_module(
        "benchmarks.bench_fields", "--data", str(tiny_xquad), "--scale", "2", "--queries", "6",
        "--words", "3", "--jobs", "1", "--out", str(out_file),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    figures = json.loads(out_file.read_text())
    assert figures["documents"] == 12 and figures["queries"] == 6
    results = figures["results"]
    assert set(results["searchlib"]) == {"plain", "facets", "sort", "facets+sort"}
    assert results["SQLite FTS5"]["facets"]["p50_ms"] > 0
    assert results["searchlib"]["facets"]["p50_vs_plain"] > 0


def test_serve_benchmark_on_a_tiny_corpus(tiny_xquad: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "serve.json"
    out = run_module(
        "benchmarks.bench_serve", "--data", str(tiny_xquad), "--clients", "2", "--seconds", "1",
        "--batch", "5", "--write-every", "0.5", "--out", str(out_file),
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    figures = json.loads(out_file.read_text())
    assert figures["requests"] > 0 and figures["errors"] == 0 and figures["commits"] >= 2
    assert figures["hostile"]["unknown parameter"] == 400 and figures["hostile"]["broken JSON body"] == 400
    assert figures["search_after_hostile"] == 200


def test_query_benchmark_on_a_tiny_corpus(tiny_xquad: Path, tmp_path: Path) -> None:
    """bm25s and Tantivy are in the bench extra, not the test one: the other systems here."""
    out_file = tmp_path / "query.json"
    out = run_module(
        "benchmarks.bench_query",
        "--data",
        str(tiny_xquad),
        "--scales",
        "1",
        "--per-lang",
        "2",
        "--systems",
        "searchlib,searchlib + snippets,SQLite FTS5",
        "--repeats",
        "2",
        "--out",
        str(out_file),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    import numpy as np

    record = json.loads(out_file.read_text())
    # what the baselines' speed depends on besides the code is written with the figures
    assert record["cpu"] and record["packages"]["numpy"] == np.__version__
    results = record["results"]["1x"]
    assert set(results) == {"searchlib", "searchlib + snippets", "SQLite FTS5"}
    assert results["searchlib"]["queries"] == 6 and results["searchlib"]["all"]["p50"] > 0
    runs = results["searchlib"]["runs"]  # each figure is the median of the two runs
    assert len(runs) == 2 and results["searchlib"]["all"]["p50"] == sum(run["p50"] for run in runs) / 2
    assert "snippets:" in out.stdout and "snippet_share_p50" in results["searchlib + snippets"]
    assert 0 < results["searchlib + snippets"]["snippet_share_in_process"] < 1  # snippets were timed
    assert set(results["SQLite FTS5"]["per_lang"]) == {"en", "ru", "de"}


def test_query_benchmark_times_searchlib_beside_bm25s(tiny_xquad: Path, tmp_path: Path) -> None:
    """--one-process: searchlib and bm25s in one process, taking turns question by question
    and in blocks, the ratios taken within each run. bm25s is in the bench extra."""
    pytest.importorskip("bm25s")
    pytest.importorskip("Stemmer")
    out_file = tmp_path / "query.json"
    out = run_module(
        "benchmarks.bench_query", "--data", str(tiny_xquad), "--scales", "1", "--per-lang", "2",
        "--systems", "SQLite FTS5", "--repeats", "2", "--one-process", "--out", str(out_file),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    ways = json.loads(out_file.read_text())["one process"]["1x"]
    assert set(ways) == {"question by question", "in blocks"}
    for together in ways.values():
        assert set(together) == {"searchlib", "bm25s + PyStemmer"}  # snippets would meet each again
        assert all(figures["queries"] == 6 for figures in together.values())
        plain, base = together["searchlib"], together["bm25s + PyStemmer"]
        assert len(plain["run_ratios"]) == 2
        assert plain["p50_vs_bm25s"] == sum(p50 for p50, _ in plain["run_ratios"]) / 2
        first = plain["runs"][0]["p50"] / base["runs"][0]["p50"]  # a run's ratio is within that run
        assert plain["run_ratios"][0][0] == pytest.approx(first)
    assert "in one process, question by question" in out.stdout and "in one process, in blocks" in out.stdout


def query_phases_run(data: Path, tmp_path: Path, *flags: str) -> dict:
    """What ``benchmarks.query_phases`` writes for two questions per language of ``data``."""
    out_file = tmp_path / "phases.json"
    out = run_module(
        "benchmarks.query_phases", "--data", str(data), "--per-lang", "2", *flags, "--out", str(out_file)
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out_file.read_text())


def test_query_phases_on_a_tiny_corpus(tiny_xquad: Path, tmp_path: Path) -> None:
    """Each phase it times is still where a search spends it: renamed, its time would read 0."""
    phases = query_phases_run(tiny_xquad, tmp_path, "--highlight")["phases"]
    for label in ("whole search", "parse", "evaluation (scoring)", "ordering", "snippets: passages"):
        assert all(ms > 0 for ms in phases[label].values()), (label, phases[label])
    whole = phases["whole search"]
    assert all(phases["parse"][mode] < whole[mode] for mode in whole)
    analysis = phases["query analysis (parse, identify, read words)"]  # their sum, question by question
    for label in ("parse", "language identification", "reading the words (analysis, name keys)"):
        assert all(phases[label][mode] <= analysis[mode] < whole[mode] for mode in whole), label


def test_query_phases_with_the_language_given_identifies_none(tiny_xquad: Path, tmp_path: Path) -> None:
    """--lang-given asks each question in its language: nothing is left to identify, which
    otherwise takes longer than parsing (the model's walk over the question's bytes)."""
    run = query_phases_run(tiny_xquad, tmp_path, "--lang-given")
    assert run["lang_given"] is True
    phases = run["phases"]
    identification, parse = phases["language identification"], phases["parse"]
    assert all(identification[mode] < parse[mode] for mode in parse), (identification, parse)


def test_query_phases_refuses_languages_without_questions(tiny_xquad: Path, tmp_path: Path) -> None:
    """A --langs that names no question's language is an error naming it, and no result is
    written (it wrote an empty one over the last run's)."""
    out_file = tmp_path / "phases.json"
    out = run_module(
        "benchmarks.query_phases", "--data", str(tiny_xquad), "--langs", "xx", "--out", str(out_file)
    )
    assert out.returncode == 2 and "--langs xx" in out.stderr and "Traceback" not in out.stderr
    assert not out_file.exists()
