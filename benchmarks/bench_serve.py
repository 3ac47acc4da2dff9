"""``searchlib serve`` under load: concurrent HTTP clients on loopback while a writer posts
documents, then hostile requests, against one server process.

The server indexes the XQuAD documents (2,880 in 12 languages), then ``--clients`` threads in
this process send the held-out XQuAD questions to ``/api/search`` (``limit=10``, snippets on)
for ``--seconds``, each over its own keep-alive connection, while one writer posts
``--batch`` new documents every ``--write-every`` seconds with the write token (at least
twice, however slow the machine: the clients go on until the index has been replaced under
them). Reported:
requests served, errors (any status but 200, or a failed connection: must be 0), requests
per second, latency p50/p95/p99, and the writer's commits. Then each hostile request (a
huge ``q``, an unknown parameter, broken JSON, a body over the limit, a huge limit) must get
a 4xx (a request head over 16 KB is answered 400 and closed by uvicorn while the client may
still be sending the 1 MB one: a reset counts as refused), and a search after them must
still answer.

    python -m benchmarks.bench_serve [--clients 8] [--seconds 20] [--batch 50] [--write-every 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import searchlib
from benchmarks.common import SHARED_DATA, read_jsonl, write_results
from benchmarks.quality import documents, xquad_split

TOKEN = "bench-token"


def start_server(index: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "searchlib.cli", "serve", "--index", str(index), "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--write-token", TOKEN, "--max-body-mb", "1"], stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}"} if method != "GET" else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status


MIN_COMMITS = 2


def client(
    port: int,
    questions: list[str],
    until: float,
    written: threading.Event,
    latencies: list[float],
    errors: list[str],
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rng = random.Random(threading.get_ident())
    while time.monotonic() < until or not written.is_set():
        path = "/api/search?" + urlencode({"q": rng.choice(questions), "limit": 10})
        started = time.perf_counter()
        try:
            status = request(connection, "GET", path)
        except (OSError, http.client.HTTPException) as error:
            errors.append(f"{type(error).__name__}: {error}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            errors.append(f"status {status}")
    connection.close()


def writer(
    port: int,
    batch: int,
    every: float,
    until: float,
    written: threading.Event,
    commits: list[float],
    errors: list[str],
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    number = 0
    try:
        while time.monotonic() < until or number < MIN_COMMITS:
            docs = [
                {"id": f"posted-{number}-{n}", "title": f"Posted {number}", "lang": "en",
                 "body": f"posted document {n} of batch {number}"}
                for n in range(batch)
            ]  # fmt: skip
            started = time.perf_counter()
            status = request(connection, "POST", "/api/documents", json.dumps(docs).encode())
            commits.append((time.perf_counter() - started) * 1000)
            if status != 200:
                errors.append(f"write status {status}")
            number += 1
            time.sleep(every)
    except (OSError, http.client.HTTPException) as error:
        errors.append(f"write {type(error).__name__}: {error}")
    finally:
        connection.close()
        written.set()


HOSTILE = {
    "q of 12 KB": ("GET", "/api/search?q=" + "a" * 12_000, None),
    "q of 100 KB (a request head over 16 KB)": ("GET", "/api/search?q=" + "a" * 100_000, None),
    "q of 1 MB": ("GET", "/api/search?q=" + "a" * 1_000_000, None),
    "q of 2,000 words": ("GET", "/api/search?q=" + quote(" ".join(["word"] * 2000)), None),
    "unknown parameter": ("GET", "/api/search?q=a&colour=red", None),
    "limit of 10^9": ("GET", "/api/search?q=a&limit=1000000000", None),
    "broken JSON body": ("POST", "/api/documents", b'[{"id": "x", "title": '),
    "body over the limit": ("POST", "/api/documents", b"[" + b" " * 2_000_000 + b"]"),
    "binary body": ("POST", "/api/documents", bytes(range(256)) * 100),
}


def hostile(port: int) -> dict[str, int | str]:
    statuses: dict[str, int | str] = {}
    for name, (method, path, body) in HOSTILE.items():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            statuses[name] = request(connection, method, path, body)
        except (OSError, http.client.HTTPException) as error:
            statuses[name] = f"{type(error).__name__}"
        finally:
            connection.close()
    return statuses


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--write-every", type=float, default=1.0)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "xquad")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    questions = [
        q["text"] for q in read_jsonl(args.data / "queries.jsonl") if xquad_split(q["id"]) == "heldout"
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index"
        with searchlib.Index.create(path) as index:
            index.add(documents(read_jsonl(args.data / "corpus.jsonl")))
        port = free_port()
        server = start_server(path, port)
        try:
            latencies: list[float] = []
            errors: list[str] = []
            commits: list[float] = []
            until = time.monotonic() + args.seconds
            written = threading.Event()
            threads = [
                threading.Thread(target=client, args=(port, questions, until, written, latencies, errors))
                for _ in range(args.clients)
            ]
            threads.append(
                threading.Thread(
                    target=writer,
                    args=(port, args.batch, args.write_every, until, written, commits, errors),
                )
            )
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            statuses = hostile(port)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            after = request(connection, "GET", "/api/search?" + urlencode({"q": questions[0]}))
            connection.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    figures = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:10],
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) if latencies else None,
        "p95_ms": percentile(latencies, 0.95) if latencies else None,
        "p99_ms": percentile(latencies, 0.99) if latencies else None,
        "commits": len(commits),
        "documents_posted": len(commits) * args.batch,
        "commit_p50_ms": statistics.median(commits) if commits else None,
        "hostile": statuses,
        "search_after_hostile": after,
    }
    p50, p95, p99 = (figures[key] or 0.0 for key in ("p50_ms", "p95_ms", "p99_ms"))
    print(
        f"{args.clients} clients for {figures['seconds']} s, a writer posting {args.batch} documents a commit"
    )
    print(f"requests {figures['requests']}  errors {figures['errors']}  {figures['requests_per_s']:.0f}/s")
    print(f"latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms")
    commit_p50 = figures["commit_p50_ms"] or 0.0
    print(f"commits {len(commits)} ({figures['documents_posted']} documents), p50 {commit_p50:.0f} ms")
    for name, status in statuses.items():
        print(f"  {name}: {status}")
    print(f"a search after them: {after}")
    write_results("bench_serve", figures, args.out)
    good = figures["errors"] == 0 and after == 200
    refused = ("ConnectionResetError", "BrokenPipeError")
    good = good and all(s in refused or (isinstance(s, int) and 400 <= s < 500) for s in statuses.values())
    raise SystemExit(0 if good else 1)


if __name__ == "__main__":
    main()
