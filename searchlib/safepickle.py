"""Reading an index's pickles without running code from it.

Whoosh keeps the schema and the segment list (the table of contents), stored fields,
columns and blocks of postings as pickles, and a pickle may name any callable to run as it
loads: opening an index written by someone else could run their code. :func:`install`
makes every Whoosh module that reads a pickle read it through an unpickler that admits
only the classes an index legitimately holds (:data:`ALLOWED`); any other name raises
:class:`UntrustedIndexError`, before anything is called. Pickles without names (lists and
tuples of numbers and strings, most of them) load as before, at about 1 µs more each.
"""

from __future__ import annotations

import io
import pickle
import sys
import types
from typing import Any, BinaryIO

from searchlib.errors import UntrustedIndexError

# Every (module, name) the pickles of a searchlib index name, as whoosh3 and Whoosh 2.7.4
# write them (recorded over the fixtures of every release and fresh indexes, then vetted:
# each builds data, none runs a command), plus the other field, format and column classes
# of Whoosh's schema language. tests/test_safepickle.py holds it to that.
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        *((module, name) for module in ("builtins", "__builtin__") for name in ("int", "float", "bool")),
        ("__builtin__", "long"),  # Python 2's int, in pickles of Whoosh's older releases
        ("_codecs", "encode"),  # how protocol-2 pickles spell bytes
        ("collections", "defaultdict"),  # a segment's field lengths
        ("datetime", "datetime"),  # stored dates
        ("re", "_compile"),  # a RegexTokenizer's pattern
        ("searchlib.analysis", "LanguageAnalyzer"),
        ("builtins", "frozenset"),  # a StopFilter's stopwords
        ("__builtin__", "frozenset"),
        ("whoosh.analysis.analyzers", "CompositeAnalyzer"),
        ("whoosh.analysis.filters", "LowercaseFilter"),
        ("whoosh.analysis.filters", "StopFilter"),
        ("whoosh.analysis.filters", "StripFilter"),
        ("whoosh.analysis.tokenizers", "IDTokenizer"),
        ("whoosh.analysis.tokenizers", "RegexTokenizer"),
        ("whoosh.analysis.tokenizers", "SpaceSeparatedTokenizer"),
        ("whoosh.codec.whoosh3", "W3Codec"),
        ("whoosh.codec.whoosh3", "W3Segment"),
        *(
            ("whoosh.fields", name)
            for name in (
                "Schema",
                "TEXT",
                "ID",
                "IDLIST",
                "KEYWORD",
                "STORED",
                "NUMERIC",
                "DATETIME",
                "BOOLEAN",
            )
        ),
        *(("whoosh.formats", name) for name in ("Existence", "Frequency", "Positions", "Characters")),
        *(
            ("whoosh.columns", name)
            for name in ("VarBytesColumn", "FixedBytesColumn", "RefBytesColumn", "NumericColumn", "BitColumn")
        ),
    }
)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise UntrustedIndexError(
                f"the index holds a pickle that names {module}.{name}, which no searchlib index "
                "holds; it was not loaded (nothing in it ran)"
            )
        return super().find_class(module, name)


def loads(data: bytes, *args: Any, **kwargs: Any) -> Any:
    """:func:`pickle.loads` that admits only :data:`ALLOWED` classes."""
    # Buffered: the C unpickler then reads ahead through peek() rather than calling read()
    # for every opcode's argument (4.4 µs for a document's stored fields instead of 6.9).
    return _Unpickler(io.BufferedReader(io.BytesIO(data))).load()


def load(file: BinaryIO, *args: Any, **kwargs: Any) -> Any:
    """:func:`pickle.load` that admits only :data:`ALLOWED` classes."""
    return _Unpickler(file).load()


# Whoosh modules that read pickles, and the names they read them through (whoosh3 imports
# them from pickle; Whoosh 2.7.4 from whoosh.compat).
_READERS = (
    "whoosh.index",
    "whoosh.filedb.structfile",
    "whoosh.filedb.fileindex",
    "whoosh.filedb.filereading",
    "whoosh.filedb.misc",
    "whoosh.codec.whoosh3",
    "whoosh.codec.whoosh2",
    "whoosh.codec.plaintext",
    "whoosh.columns",
    "whoosh.formats",
    "whoosh.compat",
)
_SAFE_PICKLE = types.SimpleNamespace(
    **{**vars(pickle), "loads": loads, "load": load, "Unpickler": _Unpickler}
)


def install() -> None:
    """Make every Whoosh module read pickles through the restricted unpickler. Idempotent.

    Tables of contents in Whoosh's pre-2.0 formats, read by an unpickler that resolves any
    name, are refused: searchlib never wrote them.
    """
    import importlib

    for name in _READERS:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a module this Whoosh distribution does not have
            continue
        for attribute, value in list(vars(module).items()):
            if value is pickle.loads:
                setattr(module, attribute, loads)
            elif value is pickle.load:
                setattr(module, attribute, load)
            elif value is pickle:
                setattr(module, attribute, _SAFE_PICKLE)
    whoosh_index = sys.modules["whoosh.index"]
    if getattr(whoosh_index, "toc_loaders", None):
        whoosh_index.toc_loaders = {}
    for name in _READERS:
        module = sys.modules.get(name)
        for attribute, value in vars(module or types.SimpleNamespace()).items():
            if value is pickle.loads or value is pickle.load or value is pickle:
                raise RuntimeError(f"{name}.{attribute} still reads pickles unrestricted")
