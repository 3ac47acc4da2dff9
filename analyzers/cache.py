"""What analyzers keep in the user's cache directory: built once per machine, read after.

An entry is named after what it is made from (the size and time of each source file: this
release's code, a dependency's data), so another release gets its own. It is written under
a temporary name beside its place and renamed into it whole, so a reader sees all of it or
none; one that cannot be read is made again, and where nothing can be written the work is
simply done in each process.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import platformdirs

T = TypeVar("T")
UNREADABLE = (OSError, ValueError, TypeError, KeyError)  # what reading a damaged entry raises


def entry(prefix: str, *sources: Path, suffix: str = "") -> Path:
    """Where the entry made from ``sources`` lives."""
    digest = hashlib.blake2b(digest_size=8)
    for source in sources:
        stat = source.stat()
        digest.update(f"{source.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    directory = Path(platformdirs.user_cache_dir("searchlib", appauthor=False))
    return directory / f"{prefix}-{digest.hexdigest()}{suffix}"


def load_or_make(
    path: Path, read: Callable[[Path], T], make: Callable[[], T], save: Callable[[T, Path], None]
) -> T:
    """``read(path)``; if that fails, ``make()`` it and ``save`` it at ``path`` for the next process.

    ``save`` writes a file or a directory at the (temporary) path it is given."""
    try:
        return read(path)
    except UNREADABLE:
        _discard(path)  # missing, or damaged: made again
    made = make()
    temporary = path.with_name(f".{path.name}-{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save(made, temporary)
        os.replace(temporary, path)  # another process's whole directory stays: this fails
    except OSError:
        pass
    finally:
        _discard(temporary)
    return made


def _discard(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
