"""``searchlib serve``: a JSON API and a search page over one index (the ``serve`` extra).

Searches run concurrently in Starlette's thread pool, each thread on its own snapshot of
the index (:meth:`Index._snapshot`); writes take one lock, so one commit runs at a time,
and a commit never blocks a search: searches go on reading the snapshot they have. Every
failure is a JSON error with its status, never a traceback: 400 for a bad query or
parameter, 401/403 for writes without the token, 404, 413 for a body over the limit, 503
while the index cannot be opened (it is tried again at the next request).
"""

from __future__ import annotations

import hmac
import io
import json
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

import analyzers
from searchlib import filters, output, page
from searchlib.building import AddResult
from searchlib.documents import to_language
from searchlib.errors import IndexCorruptError, IndexLockedError, SearchlibError
from searchlib.index import Index
from searchlib.loading import Skipped, Unrecognized, json_records, stream_jsonl
from searchlib.query import QueryError

MAX_BODY_BYTES = 64_000_000
MAX_QUERY_CHARS = 10_000
MAX_LIMIT = 1000
MAX_OFFSET = 100_000
SEARCH_TIMEOUT_S = 10.0
SEARCH_PARAMETERS = ("q", "lang", "limit", "offset", "filter", "sort", "facets", "highlight", "facet")
REPEATABLE = ("filter", "sort", "facets", "facet")


class ApiError(Exception):
    """A request that cannot be served: its status and a message for the caller."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class Service:
    """The index a server serves, opened at the first request that needs it (and again after a
    failure), with the lock that lets one write run at a time."""

    def __init__(
        self, open_index: Callable[[], Index], write_token: str | None, max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self._open_index = open_index
        self._index: Index | None = None
        self._opening = threading.Lock()
        self.writing = threading.Lock()
        self.write_token = write_token
        self.max_body_bytes = max_body_bytes

    def index(self) -> Index:
        with self._opening:
            if self._index is None:
                try:
                    self._index = self._open_index()
                except SearchlibError as error:
                    raise ApiError(
                        503, f"the index cannot be opened: {error}", {"Retry-After": "5"}
                    ) from None
            return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()

    def check_token(self, request: Request) -> None:
        if not self.write_token:
            raise ApiError(403, "this server is read-only (start it with --write-token to allow writes)")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise ApiError(401, "writes need 'Authorization: Bearer TOKEN'", {"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(given.strip().encode(), self.write_token.encode()):
            raise ApiError(403, "wrong write token")


def search_arguments(request: Request, kinds: dict[str, str]) -> dict[str, Any]:
    """The query string of ``/api/search`` (and of the page) as :meth:`Index.search` arguments."""
    params = request.query_params
    for name in params:
        if name not in SEARCH_PARAMETERS:
            raise ApiError(400, f"unknown parameter {name!r} (known: {', '.join(SEARCH_PARAMETERS)})")
        if name not in REPEATABLE and len(params.getlist(name)) > 1:
            raise ApiError(400, f"parameter {name!r} given more than once")
    text = params.get("q", "")
    if len(text) > MAX_QUERY_CHARS:
        raise ApiError(400, f"q is longer than {MAX_QUERY_CHARS:,} characters")
    lang = params.get("lang") or None
    if lang is not None:
        try:
            lang = to_language(lang)
        except ValueError as error:
            raise ApiError(400, str(error)) from None

    def listed(name: str) -> list[str]:  # sort=-price,title and sort=-price&sort=title alike
        return [value.strip() for item in params.getlist(name) for value in item.split(",") if value.strip()]

    return {
        "text": text,
        "lang": lang,
        "limit": _whole(params.get("limit", "10"), "limit", 1, MAX_LIMIT),
        "offset": _whole(params.get("offset", "0"), "offset", 0, MAX_OFFSET),
        "filter": _filters(params.getlist("filter"), kinds),
        "sort": listed("sort") or None,
        "facets": listed("facets") + listed("facet") or None,
        "highlight": params.get("highlight", "true").lower() not in ("false", "0", "no"),
        "timeout_s": SEARCH_TIMEOUT_S,
    }


def _filters(items: list[str], kinds: dict[str, str]) -> dict[str, object]:
    """``filter=`` values: ``tags=visa`` or ``price=1..10`` as ``--filter`` takes them,
    ``tags:visa`` as the query language spells them, or a JSON object as ``filter=`` of
    :meth:`Index.search` (lists for "any of", two-element lists for ranges)."""
    found: dict[str, object] = {}
    plain = []
    for item in items:
        if item.lstrip().startswith("{"):
            try:
                given = json.loads(item)
            except json.JSONDecodeError as error:
                raise ApiError(400, f"filter {item[:60]!r} is not a JSON object ({error.msg})") from None
            if not isinstance(given, dict):
                raise ApiError(400, "a JSON filter must be an object of field names")
            for name, spec in given.items():
                is_range = (
                    isinstance(spec, list) and len(spec) == 2 and kinds.get(name) in ("numeric", "date")
                )
                found[name] = tuple(spec) if is_range else spec
        elif "=" not in item and ":" in item:
            plain.append(item.replace(":", "=", 1))
        else:
            plain.append(item)
    return {**filters.from_arguments(plain, kinds), **found}


def _whole(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high:,}, not {value[:40]!r}")
    return number


# -- endpoints ---------------------------------------------------------------------


def api_search(request: Request) -> Response:
    index = request.app.state.service.index()
    return _json(output.results_json(index.search(**search_arguments(request, index.kinds()))))


def api_document(request: Request) -> Response:
    document = request.app.state.service.index().document(request.path_params["doc_id"])
    if document is None:
        raise ApiError(404, f"no document with id {request.path_params['doc_id']!r}")
    return _json(output.document_json(document))


async def api_add(request: Request) -> Response:
    service: Service = request.app.state.service
    service.check_token(request)
    body = await _body(request, service.max_body_bytes)
    return await run_in_threadpool(_add, service, body)


def _add(service: Service, body: bytes) -> Response:
    index = service.index()
    declared = index.fields
    text = body.lstrip()
    try:  # parsed once: an array, or one (pretty-printed) object; else JSONL
        whole = json.loads(text)
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        whole = None
        if text.startswith(b"["):
            message = f"not valid JSON ({error.msg}, line {error.lineno})"
            raise ApiError(400, f"the body is not a JSON array of documents: {message}") from None
    if isinstance(whole, (list, dict)):
        items = list(json_records(whole, "body", declared))
    else:
        items = list(stream_jsonl(io.BytesIO(body), "body", service.max_body_bytes, declared))
    documents = [item for item in items if not isinstance(item, (Skipped, Unrecognized))]
    skipped = [{"where": item.path, "reason": item.reason} for item in items if isinstance(item, Skipped)]
    unrecognized = sorted({key for item in items if isinstance(item, Unrecognized) for key in item.keys})
    if not documents:
        raise (
            ApiError(400, "the body holds no document", {})
            if not skipped
            else ApiError(400, f"no document could be read: {skipped[0]['where']}: {skipped[0]['reason']}")
        )
    with service.writing:
        result: AddResult = index.add(documents)
    return _json(
        {
            "added": result.added,
            "replaced": result.replaced,
            "unchanged": result.unchanged,
            "duplicates": result.duplicates,
            "skipped": skipped,
            "unrecognized_keys": unrecognized,
        }
    )


def api_delete(request: Request) -> Response:
    service: Service = request.app.state.service
    service.check_token(request)
    doc_id = request.path_params["doc_id"]
    with service.writing:
        deleted = service.index().delete(doc_id)
    if not deleted:
        raise ApiError(404, f"no document with id {doc_id!r}")
    return _json({"deleted": doc_id})


def api_stats(request: Request) -> Response:
    index = request.app.state.service.index()
    figures = index.stats()
    figures["fields"] = {name: field.to_dict() for name, field in index.fields.items()}
    return _json(figures)


def api_analyze(request: Request) -> Response:
    text = request.query_params.get("text", "")
    if len(text) > MAX_QUERY_CHARS:
        raise ApiError(400, f"text is longer than {MAX_QUERY_CHARS:,} characters")
    lang = request.query_params.get("lang") or None
    versions = request.app.state.service.index().chain_versions  # the terms this index holds
    try:
        with analyzers.using_versions(versions):
            return _json(output.analysis_json(text, to_language(lang) if lang else None))
    except ValueError as error:
        raise ApiError(400, str(error)) from None


def healthz(request: Request) -> Response:
    index = request.app.state.service.index()
    return _json({"status": "ok", "documents": len(index)})


def openapi(request: Request) -> Response:
    return _json(OPENAPI)


def search_page(request: Request) -> Response:
    service: Service = request.app.state.service
    if not request.query_params.get("q") and not request.query_params.get("filter"):
        return HTMLResponse(page.render(request.query_params, None, None))
    try:
        index = service.index()
        arguments = search_arguments(request, index.kinds())
        if not arguments["facets"]:  # the page counts what the index has: languages, keywords
            keywords = [name for name, field in index.fields.items() if field.kind in ("keyword", "boolean")]
            arguments["facets"] = ["lang", *keywords]
        results = index.search(**arguments)
    except (ApiError, SearchlibError, QueryError) as error:
        status = error.status if isinstance(error, ApiError) else 400
        return HTMLResponse(page.render(request.query_params, None, str(error)), status_code=status)
    return HTMLResponse(page.render(request.query_params, results, None))


# -- errors ------------------------------------------------------------------------


def _json(value: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(value, ensure_ascii=False, default=output.json_default)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the body is over the limit of {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the body is over the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _api_error(request: Request, error: Exception) -> Response:
    if isinstance(error, ApiError):
        return _json({"error": str(error)}, error.status, error.headers)
    if isinstance(error, QueryError):
        return _json({"error": str(error)}, 400)
    if isinstance(error, IndexLockedError):
        return _json({"error": str(error)}, 503, {"Retry-After": "5"})
    if isinstance(error, IndexCorruptError):
        return _json({"error": str(error)}, 503)
    if isinstance(error, SearchlibError):
        return _json({"error": str(error)}, 400)
    if isinstance(error, HTTPException):
        return _json({"error": error.detail}, error.status_code)
    return _json({"error": "internal error"}, 500)


def app(service: Service) -> Starlette:
    """The ASGI application serving ``service``'s index."""
    errors = {exception: _api_error for exception in (ApiError, QueryError, SearchlibError, HTTPException)}
    application = Starlette(
        routes=[
            Route("/", search_page),
            Route("/api/search", api_search),
            Route("/api/documents", api_add, methods=["POST"]),
            Route("/api/documents/{doc_id:path}", api_document, methods=["GET"]),
            Route("/api/documents/{doc_id:path}", api_delete, methods=["DELETE"]),
            Route("/api/stats", api_stats),
            Route("/api/analyze", api_analyze),
            Route("/api/openapi.json", openapi),
            Route("/healthz", healthz),
        ],
        exception_handlers=errors,  # type: ignore[arg-type]
    )
    application.state.service = service
    return application


def serve(service: Service, host: str, port: int, where: Path | str) -> None:
    """Serve until interrupted. The socket is bound here, so that a port in use or a host
    that is not this machine's is one clear error, not a server that exits at start-up."""
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Connections inherit it: a response's headers and body go out at once, not 40 ms apart
    # (Nagle's algorithm waiting for the client's delayed acknowledgement).
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise SearchlibError(
            f"--host {host} --port {port}: cannot listen there ({error.strerror or error})"
        ) from None
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"searchlib: serving {where} at http://{shown}:{listener.getsockname()[1]}/", flush=True)
    config = uvicorn.Config(app(service), log_level="warning", timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        listener.close()
        service.close()


# The API as OpenAPI 3.1 describes it, served at /api/openapi.json.
OPENAPI: dict[str, Any] = json.loads((Path(__file__).parent / "openapi.json").read_text(encoding="utf-8"))
