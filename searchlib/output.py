"""Search results, documents and analyses as JSON: one shape for the CLI's ``--json`` and
the server's API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import analyzers
from searchlib.documents import Document
from searchlib.index import Hit, Results


def hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "score": hit.score,
        "title": hit.title,
        "lang": hit.lang,
        "date": hit.date.isoformat() if hit.date else None,
        "source": hit.source,
        "snippet": hit.snippet,
        "fields": hit.fields,
        "highlights": hit.highlights,
    }


def results_json(results: Results) -> dict[str, Any]:
    """``{"total", "hits", "facets"}``; facet values that are not text (true/false) become
    JSON object keys as ``json`` spells them."""
    return {"total": results.total, "hits": [hit_json(hit) for hit in results], "facets": results.facets}


def document_json(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "title": document.title,
        "body": document.body,
        "lang": document.lang,
        "date": document.date.isoformat() if document.date else None,
        "source": document.source,
        "fields": document.fields,
    }


def analysis_json(text: str, lang: str | None) -> dict[str, Any]:
    """The terms ``lang``'s analyzer makes of ``text`` (``lang`` None: detected), with offsets."""
    lang = lang or analyzers.detect_language(text)
    tokens = [
        {
            "term": t.term,
            "position": t.position,
            "start": t.start,
            "end": t.end,
            "word": text[t.start : t.end],
        }
        for t in analyzers.analyze(text, lang)
    ]
    return {"lang": lang, "analyzer": analyzers.canonical(lang), "tokens": tokens}


def json_default(value: object) -> object:
    """Dates in declared fields as ISO 8601 text."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
