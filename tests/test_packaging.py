"""A wheel install, not only an editable one, carries the seeds and the stopword lists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO, RU_ASEAN


def test_wheel_installs_and_queries_the_bundled_seeds(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",  # hatchling comes with the test extra: no download here
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("searchlib-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert sum(n.startswith("searchlib/seeds/") for n in names) == 5
    assert "analyzers/stopwords/ru.txt" in names

    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    env = {
        **os.environ,
        "PYTHONPATH": str(target),
        "SEARCHLIB_INDEX": str(tmp_path / "index"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    code = (
        "import sys, searchlib.cli, searchlib.paths; print(searchlib.paths.seeds_dir()); "
        "sys.exit(searchlib.cli.main(sys.argv[1:]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "query", "АСЕАН", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    seeds_dir, hits = out.stdout.split("\n", 1)
    assert Path(seeds_dir).is_relative_to(target)
    assert json.loads(hits)["hits"][0]["id"] == RU_ASEAN
