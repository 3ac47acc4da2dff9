"""Shared fixtures: real indexes on disk, built from the repository's seeds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import searchlib
from searchlib.loading import load_paths

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED_DATA = REPO.parent / "shared" / "data"

RU_SENATE = "004_7b6164ce9bcf0c18.txt"  # a file's id is its path below the directory given
RU_ASEAN = "000_a56dd54d2768551e.txt"
RU_MFA = "001_80a9736044a836b5.txt"
NO_ARTICLE = "002_3a14a5f8f92bcbd2.txt"
AR_ARTICLE = "003_66c4a9d52df591d2.txt"


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
