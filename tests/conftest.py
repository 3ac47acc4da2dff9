"""Shared fixtures: real indexes on disk, built from the repository's seeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import analyzers
import searchlib

# The suite runs a process per core already: additions in it are built in their own process
# unless a test asks for workers (tests/test_building.py and tests/test_cli.py do).
os.environ.setdefault("SEARCHLIB_JOBS", "1")
from analyzers import arabic_lexicon
from searchlib import commits
from searchlib.loading import load_paths
from searchlib.storage import INDEX_NAME

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"

RU_SENATE = "004_7b6164ce9bcf0c18.txt"  # a file's id is its path below the directory given
RU_ASEAN = "000_a56dd54d2768551e.txt"
RU_MFA = "001_80a9736044a836b5.txt"
NO_ARTICLE = "002_3a14a5f8f92bcbd2.txt"
AR_ARTICLE = "003_66c4a9d52df591d2.txt"


def pytest_configure(config: pytest.Config) -> None:
    """Fill the caches a fresh machine builds once (the Arabic lexicon, py3langid's model
    uncompressed, simplemma's Norwegian trie: about 3 s together) before any test, so that
    tests timing a server or counting its commits in a second do not measure their first
    build. tests/test_arabic.py and tests/test_analyzers.py test the caches themselves."""
    arabic_lexicon.lexicon()
    analyzers.detect_language("Utenriksministeren uttrykte takknemlighet")
    analyzers.analyze("naturkatastrofene", "no")


def searchlib_command(*args: str) -> list[str]:
    """The ``searchlib`` command line with ``args``, run by this Python as a real process."""
    return [sys.executable, "-m", "searchlib.cli", *args]


@pytest.fixture(scope="session")
def seed_documents() -> list[searchlib.Document]:
    return [d for d in load_paths([SEEDS]) if isinstance(d, searchlib.Document)]


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, seed_documents) -> searchlib.Index:
    index = searchlib.Index.create(tmp_path_factory.mktemp("seeds") / "index")
    index.add(seed_documents)
    yield index
    index.close()


@pytest.fixture
def empty_index(tmp_path: Path) -> searchlib.Index:
    index = searchlib.Index.create(tmp_path / "index")
    yield index
    index.close()


def reseal(path: Path) -> None:
    """Record the latest commit's files as they are now, as someone who changed them on
    purpose would: the checksums no longer stand in the way, the other defences must."""
    names = os.listdir(path)
    generation = commits.generations(names, INDEX_NAME)[-1]
    toc = commits.toc_name(INDEX_NAME, generation)
    files = {
        name: commits.sum_file(str(path / name))
        for name in names
        if name == toc or (name.startswith(f"{INDEX_NAME}_") and name != f"{INDEX_NAME}_WRITELOCK")
    }
    manifest = commits.Manifest(generation, 0, files)
    (path / commits.manifest_name(INDEX_NAME, generation)).write_bytes(manifest.to_bytes())


@pytest.fixture
def tmpfs(tmp_path: Path):
    """Mounts a real tmpfs of a given size (``tmpfs("3m")``): a disk that fills up, or one
    to remount read-only. Root only; skipped elsewhere."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a file system needs root")
        mountpoint = tmp_path / f"disk{len(mounted)}"
        mountpoint.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(mountpoint)
        return mountpoint

    yield mount
    for mountpoint in mounted:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)
