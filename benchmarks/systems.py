"""The search systems the benchmarks compare, each behind ``search(text, lang) -> ids``.

searchlib itself, and the baselines measured in the same run: Whoosh with its
StandardAnalyzer (title and body, BM25F), Tantivy with a Snowball stemmer per language
field where it has one, bm25s with PyStemmer's Snowball stemmer per document language, and
SQLite FTS5 (unicode61).
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Protocol

import searchlib

# Query syntax characters: a baseline gets the question as plain words.
_SYNTAX = re.compile(r"[\"'()\[\]{}:^~*?!+\-\\/،؟]")


def plain_words(text: str) -> str:
    return _SYNTAX.sub(" ", text)


class System(Protocol):
    name: str

    def search(self, text: str, lang: str | None, limit: int) -> list[str]: ...


class Searchlib:
    """searchlib over one index; ``variant`` searches the same index another way."""

    def __init__(
        self,
        documents: Iterable[searchlib.Document],
        path: Path | None = None,
        chain_versions: dict[str, int] | None = None,
    ) -> None:
        path = path or Path(tempfile.mkdtemp(prefix="searchlib-bench-"))
        self.index = searchlib.Index.create(path / "index", chain_versions=chain_versions)
        self.index.add(documents)
        self.name, self.lang_given, self.cross_script = "searchlib", False, True

    def variant(self, name: str, lang_given: bool = False, cross_script: bool = True) -> Searchlib:
        """The same index, searched with the query's language given, or without name keys."""
        other = copy.copy(self)
        other.name, other.lang_given, other.cross_script = name, lang_given, cross_script
        return other

    def search(self, text: str, lang: str | None, limit: int) -> list[str]:
        given = lang if self.lang_given else None
        hits = self.index.search(
            text, limit=limit, lang=given, highlight=False, cross_script=self.cross_script
        )
        return [h.id for h in hits]


class WhooshStandard:
    """Baseline A: Whoosh's StandardAnalyzer in a title and a body field, BM25F."""

    name = "Whoosh StandardAnalyzer"

    def __init__(self, documents: Iterable[searchlib.Document]) -> None:
        from whoosh import index, scoring
        from whoosh.analysis import StandardAnalyzer
        from whoosh.fields import ID, TEXT, Schema
        from whoosh.qparser import MultifieldParser, OrGroup

        analyzer = StandardAnalyzer(expression=r"\w+(\.?\w+)*")
        schema = Schema(
            id=ID(stored=True, unique=True),
            title=TEXT(analyzer=analyzer),
            body=TEXT(analyzer=analyzer),
        )
        self.ix = index.create_in(tempfile.mkdtemp(prefix="whoosh-bench-"), schema)
        writer = self.ix.writer(limitmb=256)
        for d in documents:
            writer.add_document(id=d.id, title=d.title, body=d.body)
        writer.commit()
        self.searcher = self.ix.searcher(weighting=scoring.BM25F())
        self.parser = MultifieldParser(["title", "body"], schema, group=OrGroup)

    def search(self, text: str, lang: str | None, limit: int) -> list[str]:
        query = self.parser.parse(plain_words(text))
        return [hit["id"] for hit in self.searcher.search(query, limit=limit)]


class Tantivy:
    """Tantivy with one field per language, Snowball-stemmed where it has a stemmer."""

    name = "Tantivy"
    STEMMERS: ClassVar[dict[str, str]] = {
        "ar": "arabic", "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish",
        "fr": "french", "de": "german", "el": "greek", "hu": "hungarian", "it": "italian",
        "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian",
        "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish",
    }  # fmt: skip

    def __init__(self, documents: Iterable[searchlib.Document]) -> None:
        import tantivy

        documents = list(documents)
        langs = sorted({d.lang or "xx" for d in documents})
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        for lang in langs:
            tokenizer = f"stem_{lang}" if lang in self.STEMMERS else "default"
            builder.add_text_field(f"title_{lang}", tokenizer_name=tokenizer)
            builder.add_text_field(f"body_{lang}", tokenizer_name=tokenizer)
        schema = builder.build()
        self.index = tantivy.Index(schema, path=tempfile.mkdtemp(prefix="tantivy-bench-"))
        for lang, algorithm in self.STEMMERS.items():
            analyzer = (
                tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                .filter(tantivy.Filter.remove_long(40))
                .filter(tantivy.Filter.lowercase())
                .filter(tantivy.Filter.stemmer(algorithm))
                .build()
            )
            self.index.register_tokenizer(f"stem_{lang}", analyzer)
        writer = self.index.writer(heap_size=200_000_000, num_threads=1)
        for d in documents:
            lang = d.lang or "xx"
            writer.add_document(
                tantivy.Document(id=d.id, **{f"title_{lang}": d.title, f"body_{lang}": d.body})
            )
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.fields = [f"{part}_{lang}" for lang in langs for part in ("title", "body")]

    def search(self, text: str, lang: str | None, limit: int) -> list[str]:
        query, _errors = self.index.parse_query_lenient(plain_words(text), self.fields)
        hits = self.searcher.search(query, limit).hits
        return [self.searcher.doc(address)["id"][0] for _score, address in hits]


_WORD = re.compile(r"\w+")


class BM25S:
    """bm25s (BM25 on sparse matrices) over title and body, each document stemmed with the
    Snowball stemmer of its own language (PyStemmer), the question with its language's: the
    peer of the independent review, given the question's language."""

    name = "bm25s + PyStemmer"

    def __init__(self, documents: Iterable[searchlib.Document]) -> None:
        import bm25s

        self._stemmers: dict[str, object] = {}
        self.ids, corpus = [], []
        for d in documents:
            self.ids.append(d.id)
            corpus.append(self._tokens(f"{d.title}\n{d.body}", d.lang))
        self.retriever = bm25s.BM25()
        self.retriever.index(corpus, show_progress=False)

    def save(self, path: Path) -> None:
        self.retriever.save(str(path))
        (path / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> BM25S:
        import bm25s

        engine = cls.__new__(cls)
        engine._stemmers = {}
        engine.retriever = bm25s.BM25.load(str(path))
        engine.ids = json.loads((path / "ids.json").read_text(encoding="utf-8"))
        return engine

    def _tokens(self, text: str, lang: str | None) -> list[str]:
        import Stemmer

        words = _WORD.findall(text.lower())
        algorithm = Tantivy.STEMMERS.get(lang or "")
        if algorithm is None:
            return words
        if algorithm not in self._stemmers:
            self._stemmers[algorithm] = Stemmer.Stemmer(algorithm)
        return self._stemmers[algorithm].stemWords(words)  # type: ignore[attr-defined]

    def search(self, text: str, lang: str | None, limit: int) -> list[str]:
        tokens = self._tokens(text, lang)
        if not tokens:
            return []
        k = min(limit, len(self.ids))
        found, scores = self.retriever.retrieve([tokens], k=k, show_progress=False)
        return [self.ids[i] for i, score in zip(found[0], scores[0], strict=True) if score > 0]


class SqliteFTS5:
    """SQLite FTS5 with its unicode61 tokenizer over title and body, BM25 ranked."""

    name = "SQLite FTS5"

    def __init__(self, documents: Iterable[searchlib.Document], path: Path | None = None) -> None:
        import sqlite3

        self.db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self.db.execute(
            "CREATE VIRTUAL TABLE fts USING fts5(id UNINDEXED, title, body, tokenize='unicode61')"
        )
        self.db.executemany(
            "INSERT INTO fts (id, title, body) VALUES (?, ?, ?)", ((d.id, d.title, d.body) for d in documents)
        )
        self.db.commit()

    @classmethod
    def open(cls, path: Path) -> SqliteFTS5:
        import sqlite3

        engine = cls.__new__(cls)
        engine.db = sqlite3.connect(str(path), check_same_thread=False)
        return engine

    def search(self, text: str, lang: str | None, limit: int) -> list[str]:
        words = _WORD.findall(text)
        if not words:
            return []
        query = " OR ".join(f'"{word}"' for word in words)
        rows = self.db.execute("SELECT id FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ?", (query, limit))
        return [row[0] for row in rows]
