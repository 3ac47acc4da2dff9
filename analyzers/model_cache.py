"""py3langid's model, decompressed once per machine into the user's cache directory.

The model ships as an LZMA-compressed ``.npz`` (4.5 MB; 68 MB of arrays). Decompressing it
costs half a second in every process; kept as plain ``.npy`` files beside the Arabic
lexicon's cache, the arrays are memory-mapped instead. The directory is named after the
model file's size and time, so a new py3langid release gets its own; it is written under a
temporary name and renamed into place whole; one that cannot be read is made again, and
where none can be written the model is read from its package, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import lzma
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import platformdirs

ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


def langid_arrays(model_file: Path) -> dict[str, np.ndarray]:
    """The arrays of py3langid's model file, memory-mapped from the cache when there."""
    stat = model_file.stat()
    digest = hashlib.blake2b(f"{model_file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode(), digest_size=8)
    cached = Path(platformdirs.user_cache_dir("searchlib", appauthor=False)) / f"langid-{digest.hexdigest()}"
    try:
        return {name: np.load(cached / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
    except (OSError, ValueError):
        shutil.rmtree(cached, ignore_errors=True)  # missing, or damaged: made again below
    with lzma.open(model_file) as compressed:
        packed = io.BytesIO(compressed.read())
    with np.load(packed, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in ARRAYS}
    with contextlib.suppress(OSError):
        _save(cached, arrays)
    return arrays


def _save(directory: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the arrays into a temporary directory beside ``directory``, then rename it."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}-"))
    try:
        for name, values in arrays.items():
            np.save(building / f"{name}.npy", values, allow_pickle=False)
        os.rename(building, directory)  # fails if another process got there first: theirs stays
    finally:
        shutil.rmtree(building, ignore_errors=True)
