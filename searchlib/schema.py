"""The Whoosh schema: stored document fields plus one title and one body field per analyzer.

Each document's text goes only into the fields of its own language, so each
language keeps its own term statistics and a query is read once per language.
"""

from __future__ import annotations

from collections.abc import Mapping

from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import DATETIME, ID, STORED, TEXT, FieldType, Schema

import analyzers
from searchlib.analysis import LanguageAnalyzer
from searchlib.fields import Field, check_name, declare

GENERIC = "xx"
NAMES = "names"  # the language-neutral name keys of analyzers.names, space-separated
FINGERPRINT = "fingerprint"  # a digest of the document, to skip unchanged ones on re-indexing
CHAIN_VERSION = "searchlib_chain_version"  # on a language's body field: the chain its terms came from


def analyzer_keys() -> list[str]:
    """Every analyzer a document can be filed under: the dedicated ones and generic."""
    return [*analyzers.languages(), GENERIC]


def title_field(key: str) -> str:
    return f"title_{key}"


def body_field(key: str) -> str:
    return f"body_{key}"


def build_schema(
    declarations: Mapping[str, Field] | None = None, versions: Mapping[str, int] | None = None
) -> Schema:
    """The schema of a new index, its terms to be made by the chain ``versions`` (language →
    version; the current ones of :data:`analyzers.VERSIONS` unless told)."""
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
    schema = Schema(**fields)
    for key, version in {**analyzers.VERSIONS, **(versions or {})}.items():
        setattr(schema[body_field(key)], CHAIN_VERSION, version)
    for name, field in (declarations or {}).items():
        add_declared(schema, name, field)
    return schema


def chain_versions(schema: Schema) -> dict[str, int]:
    """The version of each language's chain that made the index's terms (:data:`analyzers.VERSIONS`):
    recorded in the schema, so it changes with the commit that changes it; an index made by
    searchlib 0.1 records none and was made by the first version of each."""
    return {
        key: getattr(schema[body_field(key)], CHAIN_VERSION, 1) if body_field(key) in schema else 1
        for key in analyzers.VERSIONS
    }


def whoosh_fields_of(schema: Schema, name: str, field: Field) -> dict[str, FieldType]:
    """The Whoosh fields that declaring ``name`` adds to ``schema``, the first carrying the
    declaration; a :class:`ValueError` if the name is not free."""
    check_name(name, schema.names())
    made = field.whoosh(name, analyzer_keys())
    clashes = [whoosh_name for whoosh_name in made if whoosh_name in schema]
    if clashes:
        raise ValueError(f"field {name!r} needs the name {clashes[0]!r}, which another field has")
    declare(next(iter(made.values())), field)
    return made


def add_declared(schema: Schema, name: str, field: Field) -> None:
    for whoosh_name, whoosh_field in whoosh_fields_of(schema, name, field).items():
        schema.add(whoosh_name, whoosh_field)
