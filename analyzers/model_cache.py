"""py3langid's model, decompressed once per machine into the user's cache directory.

The model ships as an LZMA-compressed ``.npz`` (4.5 MB; 68 MB of arrays). Decompressing it
costs half a second in every process; kept as plain ``.npy`` files in an entry of
:mod:`analyzers.cache`, the arrays are memory-mapped instead.
"""

from __future__ import annotations

import io
import lzma
from pathlib import Path

import numpy as np

from analyzers import cache

ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat", "depth")


def langid_arrays(model_file: Path) -> dict[str, np.ndarray]:
    """The arrays of py3langid's model file, memory-mapped from the cache when there."""
    return cache.load_or_make(
        cache.entry("langid", model_file, Path(__file__)), _mapped, lambda: _unpacked(model_file), _save
    )


def _mapped(directory: Path) -> dict[str, np.ndarray]:
    arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
    classes, states = len(arrays["classes"]), len(arrays["out_feat"])
    if (
        arrays["ptc"].shape[-1] != classes
        or len(arrays["pc"]) != classes
        or len(arrays["nextmove_row"]) != states
    ):
        raise ValueError(f"{directory}: the model's arrays do not fit together")
    return arrays


def _unpacked(model_file: Path) -> dict[str, np.ndarray]:
    with lzma.open(model_file) as compressed:
        packed = io.BytesIO(compressed.read())
    with np.load(packed, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in ARRAYS if name != "depth"}
    arrays["depth"] = np.array(trie_depth(arrays["nextmove"], arrays["nextmove_row"]))
    return arrays


def trie_depth(nextmove: np.ndarray, rows: np.ndarray) -> int:
    """How many bytes back the automaton's state depends on: the most steps any state is
    from the start (a breadth-first walk; half a second, so it is kept with the model)."""
    rowbase = np.asarray(rows, dtype=np.int64) << 8
    reached = np.zeros(len(rowbase), dtype=bool)
    reached[0] = True
    frontier, depth = np.array([0]), 0
    while True:
        following = np.unique(nextmove[(rowbase[frontier][:, None] + np.arange(256)).ravel()])
        following = following[~reached[following]]
        if not len(following):
            return depth
        reached[following] = True
        frontier, depth = following, depth + 1


def _save(arrays: dict[str, np.ndarray], directory: Path) -> None:
    directory.mkdir()
    for name, values in arrays.items():
        np.save(directory / f"{name}.npy", values, allow_pickle=False)
