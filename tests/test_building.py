"""How documents are cut into chunks and routed to builders, and which copy of an id wins."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import searchlib
from searchlib.building import CHUNK_DOCS, HELD_CHARS, Chunk, chunks
from searchlib.workers import AUTO_JOBS_CHARS, DEPTH, MAX_AUTO_JOBS, Router, automatic


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


def test_chunks_that_identify_languages_keep_each_identified_language_apart() -> None:
    # Workers share no language only if the router knows each document's: Latin script
    # alone would mix English and German in one chunk and split both between workers.
    bodies = {
        "en": "The minister said the talks with the delegation would continue next week.",
        "de": "Der Minister sagte, die Gespräche mit der Delegation würden nächste Woche weitergehen.",
        "ru": "Министр сказал, что переговоры с делегацией продолжатся на следующей неделе.",
    }
    documents = [doc(f"d{i}", body) for i in range(300) for body in bodies.values()]
    documents.append(doc("given", bodies["en"], lang="de"))  # a given language is kept
    made = list(chunks(documents, identify=True))
    assert {chunk.key for chunk in made} == set(bodies)
    for chunk in made:
        assert chunk.langs == [chunk.key] * len(chunk.documents)
        head, rest = chunk.split(chunk.chars // 2)
        assert head.langs + rest.langs == chunk.langs and len(head.langs) == len(head.documents)
    assert any(d.id == "given" for chunk in made if chunk.key == "de" for d in chunk.documents)
    assert all(not chunk.langs for chunk in chunks(documents))  # identified by the builders


def test_chunks_hold_back_a_bounded_amount_of_input() -> None:
    body = "word " * 2_000
    read = 0

    def documents() -> Iterator[searchlib.Document]:
        nonlocal read
        for i in range(4_000):  # 40 languages, interleaved: no chunk fills before the bound
            read += 1
            yield doc(f"d{i}", body, lang=f"x{chr(97 + i % 40 // 26)}{chr(97 + i % 26)}")

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


def chunk_of(key: str, documents: int, chars: int = 1_000) -> Chunk:
    chunk = Chunk(key)
    for n in range(documents):
        chunk.positions.append(n)
        chunk.documents.append(doc(f"{key}{n}", "x" * chars, lang=key))
        chunk.chars += chars
    return chunk


def simulate(router: Router, ready: list[Chunk], costs: dict[str, tuple[float, float]]) -> list[float]:
    """When each of two workers would end, filing ``ready`` at the end of the input in
    virtual time; ``costs``: each language's seconds to file a character, and what a
    character adds to the worker's finish. Checks every document is filed once."""
    now, busy_until, finish, retired_at = 0.0, [0.0, 0.0], [0.0, 0.0], {}
    sent: list[list[Chunk]] = [[], []]
    filed: list[str] = []
    expected = sorted(d.id for chunk in ready for d in chunk.documents)
    while True:
        for number, chunk in router.assign(ready, last=True, now=now):
            if chunk is None:
                retired_at[number] = now
                continue
            assert not sent[number]  # at the end, only an idle worker takes a chunk
            sent[number].append(chunk)
            busy_until[number] = max(now, busy_until[number]) + chunk.chars * costs[chunk.key][0]
        busy = [number for number in (0, 1) if sent[number]]
        if not busy:
            break
        number = min(busy, key=lambda n: busy_until[n])
        now = busy_until[number]
        chunk = sent[number].pop()
        filed.extend(d.id for d in chunk.documents)
        finish[number] += chunk.chars * costs[chunk.key][1]
        router.filed(number, chunk.chars * costs[chunk.key][0], finish[number], now=now)
    assert ready == [] and sorted(filed) == expected
    return [retired_at.get(n, busy_until[n]) + finish[n] for n in (0, 1)]


def test_workers_end_together_though_languages_cost_differently() -> None:
    # Per character: seconds filing it, seconds it adds to writing the postings at the end.
    costs = {
        "de": (1.0e-6, 0.4e-6), "ru": (2.0e-6, 0.3e-6), "en": (0.8e-6, 0.3e-6), "ar": (1.2e-6, 0.8e-6),
        "hi": (1.0e-6, 0.5e-6), "th": (1.5e-6, 1.0e-6), "zh": (2.0e-6, 2.5e-6),
    }  # fmt: skip
    ready = [chunk_of(key, 200) for key in costs]
    ends = simulate(Router(2), ready, costs)
    # In whole chunks the last, Chinese (0.9 s), would leave one worker idle for most of it.
    assert abs(ends[0] - ends[1]) < 0.1


def test_a_worker_whose_finish_ends_last_takes_no_more_chunks() -> None:
    costs = {"zh": (2e-6, 6e-6), "en": (0.8e-6, 0.3e-6), "de": (1e-6, 0.4e-6)}
    sizes = [("zh", 50), ("en", 200), ("de", 200), ("zh", 150), ("en", 100)]
    ready = [chunk_of(key, documents) for key, documents in sizes]
    router = Router(2)
    ends = simulate(router, ready, costs)
    assert router.retired  # the one writing Chinese's many terms stopped early
    assert abs(ends[0] - ends[1]) < 0.05


def test_a_chunk_splits_into_its_first_documents_and_the_rest() -> None:
    head, rest = chunk_of("ru", 10).split(3_500)
    assert [len(head.documents), len(rest.documents)] == [4, 6]
    assert head.positions == [0, 1, 2, 3] and rest.positions == [4, 5, 6, 7, 8, 9]
    assert (head.chars, rest.chars, head.key, rest.key) == (4_000, 6_000, "ru", "ru")
    assert len(chunk_of("ru", 2).split(0)[0].documents) == 1  # one document at least


def test_a_last_chunk_of_one_large_document_goes_whole() -> None:
    router = Router(2)
    ready = [chunk_of("de", 1, chars=5_000_000)]  # 5 s of work by the default estimate
    assert [(n, len(c.documents)) for n, c in router.assign(ready, last=True, now=0.0)] == [(0, 1)]
    assert ready == []


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


def test_automatic_jobs_read_ahead_without_losing_a_document(monkeypatch: pytest.MonkeyPatch) -> None:
    def documents(count: int, chars: int) -> Iterator[searchlib.Document]:
        for n in range(count):
            yield searchlib.Document(id=str(n), title="", body="x" * chars, lang="en")

    monkeypatch.setenv("SEARCHLIB_JOBS", "1")  # a cap of one: never workers
    assert automatic(documents(AUTO_JOBS_CHARS // 1000 + 5, 1000))[0] == 1
    monkeypatch.setenv("SEARCHLIB_JOBS", "many")
    with pytest.raises(searchlib.SearchlibError, match="SEARCHLIB_JOBS"):
        automatic(documents(3, 100))
    monkeypatch.delenv("SEARCHLIB_JOBS")
    jobs, small = automatic(documents(3, 100))
    assert jobs == 1 and [d.id for d in small] == ["0", "1", "2"]
    large = AUTO_JOBS_CHARS // 1000 + 5
    jobs, again = automatic(documents(large, 1000))
    assert [d.id for d in again] == [str(n) for n in range(large)]
    cores = len(os.sched_getaffinity(0))
    assert jobs == (min(cores, MAX_AUTO_JOBS) if threading.active_count() == 1 else 1)
    waiting = threading.Event()
    thread = threading.Thread(target=waiting.wait)
    thread.start()
    try:  # a process with other threads is not forked
        assert automatic(documents(large, 1000))[0] == 1
    finally:
        waiting.set()
        thread.join()
