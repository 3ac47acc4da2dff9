"""Building an index on a Dask cluster (``dask.distributed``).

Each partition of the documents becomes one task: on a Dask worker, a
:class:`~searchlib.building.SegmentBuilder` analyzes it (language identification,
lemmatization, name keys) and writes it as one segment into the index directory, which
must therefore be on storage that the client and every worker reach at the same path.
The client holds the index's write lock while the tasks run, then commits all their
segments at once. The result is one index whose segments are read by one reader, so
BM25's collection statistics are global and the ranking is exactly that of the same
documents indexed in one process.

Workers need searchlib installed and nothing else: tasks carry the documents and the
index path; analyzers load on first use. Run workers with one thread each (analysis is
Python code that holds the GIL) and as many worker processes as cores.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from searchlib.building import AddResult, Filed, Ledger, SegmentBuilder
from searchlib.documents import Document
from searchlib.index import Index, SearchlibError, exists

if TYPE_CHECKING:
    from dask.bag import Bag
    from distributed import Client
    from whoosh.codec.base import Segment


CONNECT_TIMEOUT_S = 10


def connect(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> Client:
    """A client of the Dask scheduler at ``address``, or a :class:`SearchlibError` saying why not
    (after ``timeout_s`` of trying to reach it)."""
    try:
        from distributed import Client
    except ImportError:
        raise SearchlibError("--dask needs dask.distributed: pip install 'searchlib[dask]'") from None
    try:
        return Client(address, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as error:
        raise SearchlibError(f"--dask {address}: cannot reach the Dask scheduler ({error})") from None


def build_index(
    documents: Iterable[Document] | Bag,
    path: str | os.PathLike[str],
    client: Client,
    partitions: int | None = None,
) -> Index:
    """A new index at ``path`` holding ``documents``, analyzed and written by ``client``'s workers.

    ``documents`` is an iterable of :class:`Document` (sent from here, in ``partitions``
    parts; default: one per worker) or a ``dask.bag.Bag`` of them, whose partitions are
    made on the workers themselves — the way to index more than fits in this process.
    Within the documents the last with a given id wins. Returns the opened index.
    """
    index = Index.create(Path(path).absolute())
    try:
        add(index, documents, client, partitions)
    except BaseException:
        index.close()
        raise
    return index


def add(
    index: Index, documents: Iterable[Document] | Bag, client: Client, partitions: int | None = None
) -> AddResult:
    """Add (or replace) ``documents`` in ``index`` on ``client``'s workers, in one commit."""
    if partitions is not None and partitions < 1:
        raise SearchlibError(f"partitions must be at least 1, not {partitions}")
    path = str(Path(index.path).absolute())

    def build(ledger: Ledger) -> dict[int, Segment | None]:
        # Submitted only now, under the write lock: the builders compare with this commit.
        tasks = _tasks(client, documents, partitions, path, index.memory_mb)
        try:
            segments = {}
            start = 0  # the partitions are in input order: positions run on across them
            for number, future in enumerate(tasks):
                filed, segment = future.result()
                ledger.record(range(start, start + len(filed)), number, filed)
                start += len(filed)
                segments[number] = segment
            return segments
        except BaseException:
            client.cancel(tasks)
            raise

    return index.build(build)


def _tasks(client: Client, documents, partitions: int | None, path: str, memory_mb: int) -> list:
    from dask import delayed
    from dask.bag import Bag

    if isinstance(documents, Bag):
        if partitions is not None:
            documents = documents.repartition(partitions)
        parts = [delayed(build_partition)(path, part, memory_mb) for part in documents.to_delayed()]
        return client.compute(parts)
    documents = list(documents)
    count = partitions or max(1, len(client.scheduler_info()["workers"]))
    size = -(-len(documents) // count) or 1
    slices = [documents[start : start + size] for start in range(0, len(documents), size)] or [[]]
    return [
        client.submit(build_partition, path, part, memory_mb, pure=False) for part in client.scatter(slices)
    ]


def build_partition(
    path: str, documents: Iterable[Document], memory_mb: int
) -> tuple[list[Filed], Segment | None]:
    """A Dask task: one partition filed into one new segment of the index at ``path``."""
    if not exists(Path(path)):
        raise SearchlibError(
            f"{path}: no searchlib index here on worker host {socket.gethostname()}; "
            "the index directory must be on storage shared by the client and all workers, at the same path"
        )
    with SegmentBuilder(path, memory_mb) as builder:
        return builder.add(documents), builder.finish()
