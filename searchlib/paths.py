"""Where searchlib keeps things: the default index, and the bundled seed corpus."""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path

import platformdirs

ENV_INDEX = "SEARCHLIB_INDEX"


def default_index() -> Path:
    """``$SEARCHLIB_INDEX``, else ``index`` in the user's data directory for searchlib."""
    configured = os.environ.get(ENV_INDEX)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("searchlib", appauthor=False)) / "index"


def demo_index() -> Path:
    """Where the bundled seeds are indexed for a first ``searchlib query``: the user's cache
    directory, never the index the user fills. Named after the seeds and the release, so
    that another release, or other seeds, get a demo of their own."""
    digest = hashlib.blake2b(digest_size=4)
    digest.update(version().encode())
    for path in sorted(seeds_dir().iterdir()):
        digest.update(f"{path.name}:{path.stat().st_size};".encode())
    return Path(platformdirs.user_cache_dir("searchlib", appauthor=False)) / f"demo-{digest.hexdigest()}"


def version() -> str:
    """The installed release of searchlib."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("searchlib")
    except PackageNotFoundError:
        return "unknown"


def seeds_dir() -> Path:
    """The sample corpus: inside the installed package, or the checkout's ``seeds/``."""
    packaged = Path(str(resources.files("searchlib").joinpath("seeds")))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "seeds"
