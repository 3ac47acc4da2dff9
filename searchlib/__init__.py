"""searchlib: multilingual full-text search for Python.

>>> import searchlib
>>> index = searchlib.Index.create("my-index")
>>> index.add([searchlib.Document(id="1", title="ASEAN", body="...")])
>>> index.search("АСЕАН")
"""

from __future__ import annotations

from searchlib import fields
from searchlib.documents import Document
from searchlib.errors import IndexCorruptError, UntrustedIndexError
from searchlib.index import (
    AddResult,
    Hit,
    Index,
    IndexLockedError,
    IndexNotFoundError,
    Results,
    SearchlibError,
)
from searchlib.query import QueryError

__all__ = [
    "AddResult",
    "Document",
    "Hit",
    "Index",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "QueryError",
    "Results",
    "SearchlibError",
    "UntrustedIndexError",
    "fields",
]
