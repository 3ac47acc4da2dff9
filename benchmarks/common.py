"""Helpers every benchmark shares: where the data is, and how results are written."""

from __future__ import annotations

import json
import platform
import re
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results"
# What the baselines' speed depends on besides the code: bm25s's top k is numpy's argpartition,
# whose vectorized path is ten times slower on scores that are mostly zeros (45 against 8 µs
# at 2,880 documents), so its speed moves with the processor and the numpy build.
MEASURED_PACKAGES = ("numpy", "bm25s", "PyStemmer", "tantivy", "whoosh3", "Whoosh", "pymorphy3")


def write_results(name: str, figures: dict[str, Any], out: Path | None = None) -> Path:
    """Write ``figures`` with the run's context as JSON, say where, and return the path."""
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpu": _cpu(),
        "packages": _versions(MEASURED_PACKAGES),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        **figures,
    }
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {path}")
    return path


def _cpu() -> str:
    """The processor's model name and its widest vector instructions, where Linux says them
    (a virtual machine's model name may be generic)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    model = re.search(r"^model name\s*:\s*(.+)$", info, re.MULTILINE)
    flags = re.search(r"^flags\s*:\s*(.+)$", info, re.MULTILINE)
    vector = [flag for flag in ("avx2", "avx512f") if flags and flag in flags.group(1).split()]
    name = model.group(1).strip() if model else platform.processor()
    return f"{name} ({', '.join(vector)})" if vector else name


def _versions(names: tuple[str, ...]) -> dict[str, str]:
    """The installed versions of the distributions ``names`` (those installed)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def time_calls(owner: Any, name: str, add: Callable[[float], None]) -> None:
    """Replace ``owner.name`` (a module's function or a class's method, in this process) by
    one that passes the seconds each call takes to ``add``: a benchmark's view of a phase."""
    function = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            add(time.perf_counter() - began)

    setattr(owner, name, timed)
