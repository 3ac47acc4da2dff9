"""``searchlib serve`` as a real process on a loopback port: the JSON API, its errors, writes
beside searches, and the search page in headless Chromium (Debian's ``chromium``, which
``.ci/run`` installs; without it the browser tests are skipped, unless
``SEARCHLIB_REQUIRE_BROWSER`` is set, as CI sets it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from conftest import AR_ARTICLE, RU_ASEAN, SEEDS, searchlib_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchlib
from searchlib.loading import load_paths

TOKEN = "test-token-5f3a"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
XSS_TITLE = '<script>document.title="pwned"</script>ASEAN trap'
XSS_BODY = "ASEAN <img src=x onerror=\"document.body.setAttribute('data-pwned', 1)\"> and <b>bold</b>"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A ``searchlib serve`` process and how to talk to it."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            searchlib_command("serve", "--port", str(self.port), *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.process.communicate()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def request(
        self, method: str, path: str, body: bytes | None = None, token: str | None = None
    ) -> tuple[int, object]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw, kind = response.status, response.read(), response.headers.get_content_type()
        except urllib.error.HTTPError as error:
            status, raw, kind = error.code, error.read(), error.headers.get_content_type()
        return status, json.loads(raw) if kind == "application/json" else raw.decode()

    def stop(self) -> str:
        self.process.terminate()
        _, stderr = self.process.communicate(timeout=30)
        return stderr


def filler(n: int) -> searchlib.Document:
    """An English note naming ASEAN once in a long text: a hit for АСЕАН ranked below the seeds'."""
    words = " ".join(f"Trade{k} Harbour{k} Grain{k}" for k in range(60))  # names: a long names field
    return searchlib.Document(id=f"en-{n:02d}", title=f"Note {n}", body=f"{words} ASEAN {words}", lang="en")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "index"
    with searchlib.Index.create(
        path, fields={"tags": searchlib.fields.Keyword(multiple=True, facet=True)}
    ) as index:
        seeds = [d for d in load_paths([SEEDS]) if isinstance(d, searchlib.Document)]
        trap = searchlib.Document("xss", XSS_TITLE, XSS_BODY, lang="en", fields={"tags": ["trap"]})
        index.add([*seeds, *(filler(n) for n in range(14)), trap])
    return path


@pytest.fixture(scope="module")
def server(index_dir: Path) -> Iterator[Server]:
    running = Server("--index", str(index_dir), "--write-token", TOKEN, "--max-body-mb", "0.05")
    yield running
    running.stop()


def search(server: Server, **params: object) -> dict:
    status, found = server.request("GET", "/api/search?" + urlencode(params, doseq=True))
    assert status == 200, found
    return found  # type: ignore[return-value]


def test_search_answers_as_index_search_does(server: Server, index_dir: Path) -> None:
    found = search(server, q="АСЕАН", limit=3, facets="lang,tags")
    assert found["hits"][0]["id"] == RU_ASEAN and "<em>АСЕАН</em>" in found["hits"][0]["snippet"]
    assert found["total"] > 10 and len(found["hits"]) == 3
    assert found["facets"]["lang"]["ru"] >= 1 and found["facets"]["tags"] == {"trap": 1}
    page2 = search(server, q="АСЕАН", limit=3, offset=3)
    with searchlib.Index.open(index_dir) as index:
        expected = index.search("АСЕАН", limit=3, offset=3)
    assert [h["id"] for h in page2["hits"]] == [h.id for h in expected]
    only_ar = search(server, q="АСЕАН", filter="lang=ar")
    assert [h["id"] for h in only_ar["hits"]] == [AR_ARTICLE] and only_ar["total"] == 1
    assert search(server, q="tags:trap")["hits"][0]["fields"] == {"tags": ["trap"]}


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/search?q=a&colour=red", 400, "unknown parameter 'colour'"),
        ("/api/search?q=a&limit=0", 400, "limit"),
        ("/api/search?q=a&limit=abc", 400, "limit"),
        ("/api/search?q=a&limit=1&limit=2", 400, "more than once"),
        ("/api/search?q=" + "a" * 20_000, 400, "longer than"),
        ("/api/search?q=" + quote(" ".join(["w"] * 1500)), 400, "more than 1024 words"),
        ("/api/search?q=a&sort=nope", 400, "no field 'nope'"),
        ("/api/search?q=a&filter=nope=1", 400, "cannot filter on 'nope'"),
        ("/api/search?q=" + quote("date:[garbage TO 2024]"), 400, "not a date"),
        ("/api/search?q=a&lang=klingon", 400, "not a language code"),
        ("/api/documents/no-such-id", 404, "no document"),
        ("/api/nowhere", 404, "Not Found"),
        ("/api/analyze?text=" + "x" * 20_000, 400, "longer than"),
    ],
)
def test_bad_requests_get_a_json_error_with_their_status(
    server: Server, path: str, status: int, message
) -> None:
    got, answer = server.request("GET", path)
    assert got == status and message in answer["error"], answer


def test_documents_stats_analyze_health_and_the_openapi_description(server: Server) -> None:
    status, document = server.request("GET", f"/api/documents/{quote(RU_ASEAN)}")
    assert status == 200 and document["lang"] == "ru" and "АСЕАН" in document["body"]
    status, stats = server.request("GET", "/api/stats")
    assert status == 200 and stats["documents"] >= 20 and stats["fields"]["tags"]["kind"] == "keyword"
    status, analysis = server.request("GET", "/api/analyze?" + urlencode({"text": "Президенту Лаоса"}))
    assert status == 200 and [t["term"] for t in analysis["tokens"]] == ["президент", "лаос"]
    assert server.request("GET", "/healthz") == (200, {"status": "ok", "documents": stats["documents"]})
    status, spec = server.request("GET", "/api/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.") and "/api/search" in spec["paths"]


def test_writes_need_the_token_and_bad_bodies_are_refused(server: Server) -> None:
    body = json.dumps([{"id": "w1", "title": "Ferry", "body": "A ferry to Kiel", "lang": "en"}]).encode()
    assert server.request("POST", "/api/documents", body)[0] == 401
    assert server.request("POST", "/api/documents", body, token="wrong")[0] == 403
    assert server.request("DELETE", "/api/documents/w1", token="wrong")[0] == 403
    status, answer = server.request("POST", "/api/documents", b'[{"id": "w1", "title"', token=TOKEN)
    assert status == 400 and "not valid JSON" in answer["error"]
    status, answer = server.request("POST", "/api/documents", b"\xff\xfe\x00garbage", token=TOKEN)
    assert status == 400
    status, answer = server.request("POST", "/api/documents", b"x" * 60_000, token=TOKEN)
    assert status == 413 and "limit" in answer["error"]
    status, answer = server.request("POST", "/api/documents", body, token=TOKEN)
    assert status == 200 and answer["added"] == 1
    jsonl = b'{"id": "w2", "title": "Ferry two", "body": "Another ferry", "lang": "en", "size": 3}\n{"nope"\n'
    status, answer = server.request("POST", "/api/documents", jsonl, token=TOKEN)
    assert status == 200 and answer["added"] == 1 and answer["unrecognized_keys"] == ["size"]
    assert answer["skipped"][0]["where"] == "body:2"
    assert {h["id"] for h in search(server, q="ferry")["hits"]} >= {"w1", "w2"}
    assert server.request("DELETE", "/api/documents/w1", token=TOKEN) == (200, {"deleted": "w1"})
    assert server.request("DELETE", "/api/documents/w1", token=TOKEN)[0] == 404
    assert "w1" not in {h["id"] for h in search(server, q="ferry")["hits"]}


def test_searches_go_on_while_a_writer_commits(server: Server) -> None:
    failures: list[object] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            status, answer = server.request("GET", "/api/search?" + urlencode({"q": "АСЕАН", "limit": 5}))
            if status != 200 or answer["hits"][0]["id"] != RU_ASEAN:
                failures.append(answer)

    threads = [threading.Thread(target=searcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for batch in range(5):
        docs = [
            {"id": f"load-{batch}-{n}", "title": "Load", "body": f"load test {n}", "lang": "en"}
            for n in range(20)
        ]
        status, answer = server.request("POST", "/api/documents", json.dumps(docs).encode(), token=TOKEN)
        assert status == 200 and answer["added"] == 20
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
    assert search(server, q="load")["total"] == 100


def test_a_read_only_server_refuses_writes_and_a_missing_index_is_503(
    index_dir: Path, tmp_path: Path
) -> None:
    read_only = Server("--index", str(index_dir))
    try:
        status, answer = read_only.request("POST", "/api/documents", b"[]", token=TOKEN)
        assert status == 403 and "read-only" in answer["error"]
    finally:
        read_only.stop()
    (tmp_path / "empty").mkdir()
    missing = Server("--index", str(tmp_path / "empty"))
    try:
        status, answer = missing.request("GET", "/healthz")
        assert status == 503 and "no searchlib index" in answer["error"]
        assert missing.request("GET", "/api/search?q=a")[0] == 503
    finally:
        missing.stop()


def test_a_fresh_install_serves_the_seeds_demo_and_a_busy_port_is_an_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SEARCHLIB_INDEX"}
    env.update(SEARCHLIB_INDEX=str(tmp_path / "default"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    demo = Server(env=env)
    try:
        assert search(demo, q="АСЕАН")["hits"][0]["id"] == RU_ASEAN
        busy = subprocess.run(
            searchlib_command("serve", "--port", str(demo.port)),
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert busy.returncode == 2 and "cannot listen" in busy.stderr and "Traceback" not in busy.stderr
    finally:
        demo.stop()
    assert not (tmp_path / "default").exists()


# -- in a real browser ---------------------------------------------------------------


def browse(url: str, tmp_path: Path, *extra: str) -> str:
    if CHROMIUM is None:
        if os.environ.get("SEARCHLIB_REQUIRE_BROWSER"):
            pytest.fail("SEARCHLIB_REQUIRE_BROWSER is set and chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}", *extra,
    ]  # fmt: skip
    done = subprocess.run([*command, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def hits_of(dom: str) -> list[tuple[str, str, str]]:
    """(data-id, lang, dir) of each hit, in order."""
    return re.findall(r'<li class="hit" lang="([^"]*)" dir="([^"]*)" data-id="([^"]*)"', dom)


def link(dom: str, pattern: str) -> str:
    found = re.search(pattern, dom)
    assert found, pattern
    return found.group(1).replace("&amp;", "&")


def test_the_page_shows_ranked_marked_hits_with_arabic_right_to_left(server: Server, tmp_path: Path) -> None:
    dom = browse(f"{server.base}/?q={quote('АСЕАН')}", tmp_path)
    hits = hits_of(dom)
    assert hits[0] == ("ru", "ltr", RU_ASEAN)
    assert ("ar", "rtl", AR_ARTICLE) in hits
    assert "<em>АСЕАН</em>" in dom
    assert re.search(r'id="total">1–10 of \d+ documents found', dom)
    assert 'value="АСЕАН"' in dom  # the query stays in the box and in the URL


def test_paging_and_the_language_facet_follow_their_links(server: Server, tmp_path: Path) -> None:
    first = browse(f"{server.base}/?q={quote('АСЕАН')}", tmp_path)
    second = browse(server.base + link(first, r'<a rel="next" href="([^"]+)"'), tmp_path)
    assert hits_of(second) and not set(hits_of(second)) & set(hits_of(first))
    assert re.search(r'id="total">11–\d+ of \d+ documents found', second)
    assert '<a rel="prev"' in second
    arabic = browse(server.base + link(first, r'<a href="([^"]+)">Arabic \(ar\)</a>'), tmp_path)
    assert [hit[2] for hit in hits_of(arabic)] == [AR_ARTICLE]
    assert "lang=ar" in arabic and "×</a>" in arabic  # the filter is shown, with a link to remove it


def test_document_markup_shows_as_text(server: Server, tmp_path: Path) -> None:
    dom = browse(f"{server.base}/?q=trap", tmp_path)
    assert "xss" in [hit[2] for hit in hits_of(dom)]
    assert "<body data-pwned" not in dom and "<title>trap — searchlib</title>" in dom
    assert "&lt;script&gt;" in dom and "<script>" not in dom.split("</head>")[1]
    assert "<img" not in dom


def test_the_page_fits_a_phone_and_a_screenshot_is_taken(server: Server, tmp_path: Path) -> None:
    shot = tmp_path / "phone.png"
    browse(f"{server.base}/?q={quote('АСЕАН')}", tmp_path, "--window-size=390,844", f"--screenshot={shot}")
    assert shot.stat().st_size > 10_000


def test_filters_take_the_cli_form_the_query_form_or_json(server: Server) -> None:
    expected = [AR_ARTICLE]
    for spec in ("lang=ar", "lang:ar", '{"lang": ["ar"]}'):
        assert [h["id"] for h in search(server, q="АСЕАН", filter=spec)["hits"]] == expected, spec
    assert search(server, q="АСЕАН", facet="lang")["facets"]["lang"]["ar"] == 1
    assert server.request("GET", "/api/search?" + urlencode({"q": "a", "filter": "{broken"}))[0] == 400


def test_one_pretty_printed_object_is_one_document(server: Server) -> None:
    body = json.dumps(
        {"id": "pretty", "title": "Pretty", "body": "One object over lines", "lang": "en"}, indent=2
    )
    status, answer = server.request("POST", "/api/documents", body.encode(), token=TOKEN)
    assert status == 200 and answer["added"] == 1
    assert server.request("GET", "/api/documents/pretty")[1]["title"] == "Pretty"


PARAMS = st.lists(
    st.tuples(
        st.sampled_from(
            ["q", "lang", "limit", "offset", "filter", "sort", "facets", "facet", "highlight", "x"]
        ),
        st.one_of(
            st.text(max_size=20),
            st.sampled_from(
                ["-1", "0", "10", "1e9", "lang=ru", "tags:trap", '{"lang": ["ar"]}', "date=2024..", "-date"]
            ),
        ),
    ),
    max_size=5,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=PARAMS)
def test_any_search_request_is_answered_or_refused_never_a_500(server: Server, params) -> None:
    status, answer = server.request("GET", "/api/search?" + urlencode(params))
    assert status in (200, 400), (params, answer)
    assert isinstance(answer, dict) and (("error" in answer) == (status == 400))
    page_status, _ = server.request("GET", "/?" + urlencode(params))
    assert page_status in (200, 400)


def test_analyze_shows_the_terms_of_the_served_index_chain(server: Server, tmp_path: Path) -> None:
    query = "/api/analyze?" + urlencode({"text": "الوزراء", "lang": "ar"})
    status, analysis = server.request("GET", query)
    assert status == 200 and [t["term"] for t in analysis["tokens"]] == ["وزير"]  # lemmas
    old = tmp_path / "index-0.1.0"
    shutil.copytree(Path(__file__).parent / "fixtures" / "index-0.1.0", old)
    served = Server("--index", str(old))
    try:
        status, analysis = served.request("GET", query)
        assert status == 200 and [t["term"] for t in analysis["tokens"]] == ["وزراء"]  # 0.1's light stems
        assert served.request("GET", "/api/stats")[1]["chain_versions"] == {"ar": 1}
    finally:
        served.stop()
