"""Memory stays within --memory-mb and a fixed overhead, whatever the corpus: the mechanism,
cheaply (the 50 MB / 200 MB figures are `python -m benchmarks.bench_index --memory 50,200`).
Peaks are measured by the kernel, for a `searchlib index` process of their own."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from conftest import REPO, searchlib_command

from benchmarks.bench_index import _alone


def test_peak_memory_stays_flat_as_the_corpus_grows(tmp_path: Path) -> None:
    """1 MB and 2 MB of JSONL, a growing vocabulary, 2 MB for postings: the larger run's
    peak is within 1.3x of the smaller's (1.18x for 1 and 3 MB here, 2026-12-02, postings arrays included;
    before streaming and paged merges, 200 MB of input took 7.5x the memory of 20 MB;
    benchmarks/bench_index.py --memory 50,200 is the large-scale proof)."""
    out_file = tmp_path / "memory.json"
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_index", "--memory", "1,2", "--memory-mb", "2",
         "--jobs", "1", "--out", str(out_file)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    results = json.loads(out_file.read_text())["results"]
    small, large = results["1MB --jobs 1"], results["2MB --jobs 1"]
    assert large["documents"] > 1.8 * small["documents"]
    assert large["peak_one_mb"] <= 1.3 * small["peak_one_mb"], (small, large)


def test_a_giant_document_is_analyzed_in_pieces(tmp_path: Path) -> None:
    """One 5.3 MB document (800,000 words) costs about 8 times its size (the line, the
    text, its stored copy, its positions, and what the allocator keeps), not 20 times as
    when it was analyzed whole (a 21 MB document took 430 MB)."""
    rng = random.Random(8)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9))) for _ in range(20_000)]
    giant = tmp_path / "giant.jsonl"
    body = " ".join(rng.choices(words, k=800_000))
    giant.write_text(json.dumps({"id": "giant", "body": body, "lang": "en"}) + "\n", encoding="utf-8")
    small = tmp_path / "small.jsonl"
    small.write_text(json.dumps({"id": "small", "body": " ".join(words[:50]), "lang": "en"}) + "\n")
    megabytes = giant.stat().st_size / 2**20

    def peak(corpus: Path) -> float:
        index = tmp_path / f"ix-{corpus.stem}"
        return _alone([*searchlib_command("index", str(corpus), "--index", str(index))])["peak_one_mb"]

    base, with_giant = peak(small), peak(giant)
    assert with_giant - base < 12 * megabytes, (base, with_giant, megabytes)
