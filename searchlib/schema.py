"""The Whoosh schema: stored document fields plus one title and one body field per analyzer.

Each document's text goes only into the fields of its own language, so each
language keeps its own term statistics and a query is read once per language.
"""

from __future__ import annotations

from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema

import analyzers
from searchlib.analysis import LanguageAnalyzer

GENERIC = "xx"
NAMES = "names"  # the language-neutral name keys of analyzers.names, space-separated
FINGERPRINT = "fingerprint"  # a digest of the document, to skip unchanged ones on re-indexing


def analyzer_keys() -> list[str]:
    """Every analyzer a document can be filed under: the dedicated ones and generic."""
    return [*analyzers.languages(), GENERIC]


def title_field(key: str) -> str:
    return f"title_{key}"


def body_field(key: str) -> str:
    return f"body_{key}"


def build_schema() -> Schema:
    fields = {
        "id": ID(stored=True, unique=True),
        "lang": ID(stored=True),
        "date": DATETIME(stored=True),
        "source": ID(stored=True),
        FINGERPRINT: ID(sortable=True),
        "title": STORED(),
        "body": STORED(),
        NAMES: TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False),
    }
    for key in analyzer_keys():
        analyzer = LanguageAnalyzer(key)
        fields[title_field(key)] = TEXT(analyzer=analyzer, phrase=True)
        fields[body_field(key)] = TEXT(analyzer=analyzer, phrase=True)
    return Schema(**fields)
