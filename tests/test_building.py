"""How documents are cut into chunks and routed to builders, and which copy of an id wins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import searchlib
from searchlib.building import CHUNK_DOCS, HELD_CHARS, Chunk, chunks
from searchlib.workers import DEPTH, Router


def doc(doc_id: str, body: str, lang: str | None = None) -> searchlib.Document:
    return searchlib.Document(id=doc_id, title="", body=body, lang=lang)


def test_chunks_hold_one_language_each_and_every_document_once() -> None:
    langs = ["en", "ru", "nb", "no", None, None]
    bodies = ["a volcano", "вулкан", "en vulkan", "en isbre", "ледник извергся", "a glacier"]
    documents = [doc(f"d{i}", bodies[i % 6], langs[i % 6]) for i in range(1200)]
    made = list(chunks(documents))
    positions = sorted(p for chunk in made for p in chunk.positions)
    assert positions == list(range(1200))
    for chunk in made:
        assert [documents[p] for p in chunk.positions] == chunk.documents
        assert len(chunk.documents) <= CHUNK_DOCS
    langs_by_key: dict[str, set[str | None]] = {}
    for chunk in made:
        langs_by_key.setdefault(chunk.key, set()).update(d.lang for d in chunk.documents)
    # nb and no are one language; without a language, the script stands for it.
    assert langs_by_key == {
        "en": {"en"},
        "ru": {"ru"},
        "no": {"nb", "no"},
        "script Cyrillic": {None},
        "script Latin": {None},
    }


def test_chunks_hold_back_a_bounded_amount_of_input() -> None:
    body = "word " * 2_000
    read = 0

    def documents() -> Iterator[searchlib.Document]:
        nonlocal read
        for i in range(4_000):  # 40 languages, interleaved: no chunk fills before the bound
            read += 1
            yield doc(f"d{i}", body, lang=f"l{i % 40}")

    handed = 0
    for chunk in chunks(documents()):
        handed += len(chunk.documents)
        assert (read - handed) * len(body) <= HELD_CHARS
    assert handed == 4_000


def test_router_keeps_a_language_with_one_worker_and_lets_no_worker_idle() -> None:
    router = Router(2)
    ready = [Chunk("ru"), Chunk("ru"), Chunk("en"), Chunk("ru")]
    assert [(n, c.key) for n, c in router.assign(ready)] == [(0, "ru"), (1, "en")]
    # Worker 1 has room but is busy, and only Russian is ready: it waits.
    assert [(n, c.key) for n, c in router.assign(ready)] == [(0, "ru")]
    assert router.in_flight == [DEPTH, 1]
    assert [(n, c.key) for n, c in router.assign(ready)] == []
    router.filed(1)  # idle now: it takes Russian rather than wait
    assert [(n, c.key) for n, c in router.assign(ready)] == [(1, "ru")]
    ready.extend([Chunk("ar"), Chunk("en")])
    router.filed(0)
    # A new language goes to the first worker with room; English stays with worker 1.
    assert [(n, c.key) for n, c in router.assign(ready)] == [(0, "ar"), (1, "en")]
    assert ready == []


def test_router_queues_nothing_behind_a_busy_worker_once_the_input_ends() -> None:
    router = Router(2)
    ready = [Chunk("ru"), Chunk("en"), Chunk("ru"), Chunk("en")]
    assert [(n, c.key) for n, c in router.assign(ready, last=True)] == [(0, "ru"), (1, "en")]
    assert [(n, c.key) for n, c in router.assign(ready, last=True)] == []  # both busy
    router.filed(1)
    # Worker 1 is idle: it takes its English chunk; the Russian one waits for whoever is idle next.
    assert [(n, c.key) for n, c in router.assign(ready, last=True)] == [(1, "en")]
    router.filed(1)
    assert [(n, c.key) for n, c in router.assign(ready, last=True)] == [(1, "ru")]


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_last_copy_wins_when_its_chunk_is_filed_first(tmp_path: Path, jobs: int) -> None:
    # The English chunk stays open to the end; the Russian one fills first and holds
    # the later copy of "x".
    documents = [
        doc("x", "the first version of a volcano", "en"),
        *(doc(f"r{i}", f"вулкан номер {i}", "ru") for i in range(CHUNK_DOCS - 1)),
        doc("x", "последняя версия ледника", "ru"),
        doc("e", "a glacier", "en"),
    ]
    with searchlib.Index.create(tmp_path / "ix") as index:
        result = index.add(documents, jobs=jobs)
        assert (result.added, result.duplicates) == (CHUNK_DOCS + 1, 1)
        assert [h.id for h in index.search("ледник")] == ["x"]
        assert index.search("volcano") == []
