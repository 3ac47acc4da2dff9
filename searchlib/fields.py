"""Fields a user declares beside id, title, body, lang, date and source.

>>> from searchlib import fields
>>> Index.create("shop", fields={"tags": fields.Keyword(multiple=True, facet=True),
...                              "price": fields.Numeric(float, sortable=True)})

Each declaration becomes one or more Whoosh fields, and rides in the schema of the index's
table of contents as a small dict on its main Whoosh field (:data:`DECLARATION`): the
declarations commit with the index, atomically, and a Whoosh 2.7.4 reader reads them as
plain attributes. Values are checked against their declaration before anything is written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs
from whoosh import columns
from whoosh import fields as whoosh_fields

from searchlib.analysis import LanguageAnalyzer
from searchlib.documents import to_datetime
from searchlib.errors import SearchlibError

DECLARATION = "searchlib_declaration"  # the attribute of a Whoosh field that holds one
BUILTIN = ("id", "title", "body", "lang", "date", "source")
RESERVED_PREFIXES = ("title_", "body_")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
SEPARATOR = "\x00"  # between the values of a multi-valued keyword in its column
MISSING_INT = -(2**63)  # a sortable number's column value where a document has none
EPOCH = datetime(1970, 1, 1)
MAX_STORED_DEPTH = 16
MAX_KEYWORD_CHARS = 1000


class FieldError(SearchlibError, ValueError):
    """A field or a value that does not fit its declaration; the message names the document
    and the field."""


@attrs.frozen
class Field:
    """What every declared field can do; the subclasses say what kind of values it holds."""

    kind: ClassVar[str] = ""
    searchable: ClassVar[bool] = False  # free text, matched by words
    exact: ClassVar[bool] = False  # matched by filters: equal, any of, range

    def whoosh(self, name: str, text_keys: Iterable[str]) -> dict[str, whoosh_fields.FieldType]:
        """The Whoosh fields that hold this field's values, the first one holding the declaration."""
        raise NotImplementedError

    def check(self, value: object) -> object:
        """``value`` as the index keeps it; raises :class:`FieldError` saying what is wrong."""
        raise NotImplementedError

    def terms(self, value: object) -> list[Any]:
        """The exact terms a value is found by (before Whoosh encodes them)."""
        return []

    def column(self, value: object) -> bytes | int | float | None:
        """The value in the field's column, or None if it keeps none."""
        return None

    def sortable_column(self) -> bool:
        return False

    def to_dict(self) -> dict[str, object]:
        values = attrs.asdict(self)
        if "type" in values:
            values["type"] = values["type"].__name__
        return {"kind": self.kind, **values}


@attrs.frozen
class Text(Field):
    """Free text, analyzed in the document's language like title and body: searched by every
    query (its score times ``boost``), by ``name:word``, and highlighted in ``Hit.highlights``."""

    boost: float = attrs.field(default=1.0, converter=float)
    kind: ClassVar[str] = "text"
    searchable: ClassVar[bool] = True

    @boost.validator
    def _positive(self, _attribute: attrs.Attribute, value: float) -> None:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"a Text field's boost must be a number > 0, not {value!r}")

    def whoosh(self, name: str, text_keys: Iterable[str]) -> dict[str, whoosh_fields.FieldType]:
        made: dict[str, whoosh_fields.FieldType] = {name: whoosh_fields.STORED()}
        for key in text_keys:
            made[text_field(name, key)] = whoosh_fields.TEXT(analyzer=LanguageAnalyzer(key), phrase=True)
        return made

    def check(self, value: object) -> str:
        if not isinstance(value, str):
            raise FieldError(f"expected text, got {_kind_of(value)}")
        return value


@attrs.frozen
class Keyword(Field):
    """Exact values, case kept (a tag, a sender, a URL): filtered, counted with ``facet=True``
    (kept in a column), and several per document with ``multiple=True``."""

    multiple: bool = False
    facet: bool = False
    kind: ClassVar[str] = "keyword"
    exact: ClassVar[bool] = True

    def whoosh(self, name: str, text_keys: Iterable[str]) -> dict[str, whoosh_fields.FieldType]:
        field = whoosh_fields.ID(stored=True)
        if self.facet:
            field.column_type = columns.VarBytesColumn()
        return {name: field}

    def check(self, value: object) -> str | list[str]:
        if self.multiple and isinstance(value, (list, tuple, set, frozenset)):
            values = [
                self._one(item) for item in (sorted(value) if isinstance(value, (set, frozenset)) else value)
            ]
            return list(dict.fromkeys(values))
        if isinstance(value, (list, tuple, set, frozenset)):
            raise FieldError("takes one value (declare it Keyword(multiple=True) for several)")
        return [self._one(value)] if self.multiple else self._one(value)

    @staticmethod
    def _one(value: object) -> str:
        if not isinstance(value, str):
            raise FieldError(f"expected text, got {_kind_of(value)}")
        if not value.strip() or SEPARATOR in value or len(value) > MAX_KEYWORD_CHARS:
            raise FieldError(
                f"a keyword must be non-blank text of at most {MAX_KEYWORD_CHARS} characters "
                f"without NUL, not {value[:40]!r}"
            )
        return value

    def terms(self, value: object) -> list[str]:
        return list(value) if isinstance(value, list) else [value]

    def column(self, value: object) -> bytes | None:
        if not self.facet:
            return None
        return SEPARATOR.join(self.terms(value)).encode("utf-8")

    def sortable_column(self) -> bool:
        return self.facet and not self.multiple


@attrs.frozen
class Numeric(Field):
    """A number, ``int`` (64-bit) or ``float``: filtered by ranges; sorted on with ``sortable=True``."""

    type: type = attrs.field(default=int)
    sortable: bool = False
    kind: ClassVar[str] = "numeric"
    exact: ClassVar[bool] = True

    @type.validator
    def _int_or_float(self, _attribute: attrs.Attribute, value: object) -> None:
        if value not in (int, float):
            raise ValueError(f"Numeric takes int or float, not {value!r}")

    def whoosh(self, name: str, text_keys: Iterable[str]) -> dict[str, whoosh_fields.FieldType]:
        field = whoosh_fields.NUMERIC(self.type, bits=64, stored=True, signed=True)
        if self.sortable:
            field.column_type = (
                columns.NumericColumn("d", default=math.nan)
                if self.type is float
                else columns.NumericColumn("q", default=MISSING_INT)
            )
        return {name: field}

    def check(self, value: object) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FieldError(f"expected a number, got {_kind_of(value)}")
        if self.type is int:
            if isinstance(value, float):
                if not value.is_integer():
                    raise FieldError(f"expected a whole number, got {value!r}")
                value = int(value)
            if not MISSING_INT < value < 2**63:
                raise FieldError(f"{value} is out of the range of a 64-bit integer")
            return value
        if not math.isfinite(value):
            raise FieldError(f"expected a finite number, got {value!r}")
        return float(value)

    def terms(self, value: object) -> list[Any]:
        return [value]

    def column(self, value: object) -> int | float | None:
        return value if self.sortable else None

    def sortable_column(self) -> bool:
        return self.sortable


@attrs.frozen
class Date(Field):
    """A date or time (a ``datetime``, a ``date`` or an ISO 8601 string, kept in UTC):
    filtered by periods; sorted on with ``sortable=True``."""

    sortable: bool = False
    kind: ClassVar[str] = "date"
    exact: ClassVar[bool] = True

    def whoosh(self, name: str, text_keys: Iterable[str]) -> dict[str, whoosh_fields.FieldType]:
        field = whoosh_fields.DATETIME(stored=True)
        if self.sortable:
            field.column_type = columns.NumericColumn("q", default=MISSING_INT)
        return {name: field}

    def check(self, value: object) -> datetime:
        try:
            checked = to_datetime(value)
        except (TypeError, ValueError) as error:
            raise FieldError(str(error)) from None
        if checked is None:
            raise FieldError("expected a date, got None")
        return checked

    def terms(self, value: object) -> list[Any]:
        return [value]

    def column(self, value: object) -> int | None:
        return microseconds(value) if self.sortable else None  # type: ignore[arg-type]

    def sortable_column(self) -> bool:
        return self.sortable


@attrs.frozen
class Boolean(Field):
    """True or false: filtered (``in_stock:true``) and counted."""

    kind: ClassVar[str] = "boolean"
    exact: ClassVar[bool] = True

    def whoosh(self, name: str, text_keys: Iterable[str]) -> dict[str, whoosh_fields.FieldType]:
        return {name: whoosh_fields.BOOLEAN(stored=True)}

    def check(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise FieldError(f"expected true or false, got {_kind_of(value)}")
        return value

    def terms(self, value: object) -> list[Any]:
        return [value]


@attrs.frozen
class Stored(Field):
    """Any JSON value (text, numbers, true/false, null, lists and objects of them), returned
    with each hit and never searched."""

    kind: ClassVar[str] = "stored"

    def whoosh(self, name: str, text_keys: Iterable[str]) -> dict[str, whoosh_fields.FieldType]:
        return {name: whoosh_fields.STORED()}

    def check(self, value: object) -> object:
        _check_json(value, 0)
        return value


KINDS: dict[str, type[Field]] = {cls.kind: cls for cls in (Text, Keyword, Numeric, Date, Boolean, Stored)}


def from_dict(values: Mapping[str, object]) -> Field:
    """A declaration as :meth:`Field.to_dict` wrote it."""
    options = dict(values)
    cls = KINDS[str(options.pop("kind"))]
    if "type" in options:
        options["type"] = {"int": int, "float": float}[str(options["type"])]
    return cls(**options)


def text_field(name: str, key: str) -> str:
    """The Whoosh field of a Text field's words in one analyzer's language."""
    return f"{name}_{key}"


def check_name(name: object, taken: Iterable[str]) -> str:
    """A field name that queries can spell (``tags:visa``) and that no other field has."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(
            f"field name {name!r} must start with a letter and hold only letters, digits and _ (64 at most)"
        )
    if name in BUILTIN or name.lower() in ("names", "fingerprint") or name.startswith(RESERVED_PREFIXES):
        raise ValueError(f"field name {name!r} is searchlib's own (id, title, body, lang, date, source)")
    if name in set(taken):
        raise ValueError(f"field {name!r} exists already")
    return name


def declare(whoosh_field: whoosh_fields.FieldType, field: Field) -> None:
    setattr(whoosh_field, DECLARATION, field.to_dict())


def declared(schema: whoosh_fields.Schema) -> dict[str, Field]:
    """The fields declared in an index's schema, by name, in the order they were declared."""
    found = {}
    for name in schema.names():
        declaration = getattr(schema[name], DECLARATION, None)
        if declaration is None:
            continue
        try:
            found[name] = from_dict(declaration)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise SearchlibError(
                f"the index declares its field {name!r} as {str(declaration)[:200]}, which this "
                "version of searchlib cannot read (written by a newer one, or changed)"
            ) from None
    return found


def check_values(declarations: Mapping[str, Field], values: Mapping[str, object], doc_id: str) -> dict:
    """A document's field values as the index keeps them (None: absent), or a
    :class:`FieldError` naming the document and the field."""
    checked = {}
    for name, value in values.items():
        field = declarations.get(name)
        if field is None:
            known = ", ".join(declarations) or "none"
            raise FieldError(
                f"document {doc_id!r}: field {name!r} is not declared in this index "
                f"(declared: {known}; Index.add_field declares one)"
            )
        if value is None:
            continue
        try:
            checked[name] = field.check(value)
        except FieldError as error:
            raise FieldError(f"document {doc_id!r}: field {name!r}: {error}") from None
    return checked


def microseconds(value: datetime) -> int:
    return (value - EPOCH) // _MICROSECOND


_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1) - EPOCH


def _kind_of(value: object) -> str:
    return f"{type(value).__name__} {value!r}"[:80]


def _check_json(value: object, depth: int) -> None:
    if depth > MAX_STORED_DEPTH:
        raise FieldError(f"nests deeper than {MAX_STORED_DEPTH} levels")
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FieldError(f"{value!r} is not a JSON number")
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_json(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FieldError(f"object keys must be text, not {_kind_of(key)}")
            _check_json(item, depth + 1)
        return
    raise FieldError(f"expected a JSON value (text, number, true/false, list, object), got {_kind_of(value)}")
