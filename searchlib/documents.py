"""What searchlib indexes: :class:`Document`, its values checked at the door."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime

import attrs

# A language tag: ISO 639-1 or 639-3 code, maybe with a region or script (pt-BR, zh_Hant).
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def to_datetime(value: object) -> datetime | None:
    """A document date as searchlib keeps it: a naive datetime in UTC.

    Takes a ``datetime`` (one with a time zone is converted to UTC), a ``date`` (its
    midnight) or an ISO 8601 string, with or without a time or a zone (``2024-11-22``,
    ``2024-11-22T13:11:27+03:00``, ``…Z``).
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"date {value!r} is not an ISO 8601 date (2024-11-22 or 2024-11-22T13:11:27)"
            ) from None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    raise TypeError(f"date must be a datetime, a date or an ISO 8601 string, not {type(value).__name__}")


def to_language(value: object) -> str | None:
    """A language tag as given (``en``, ``nb``, ``pt-BR``), or None to detect it.

    A well-formed code without an analyzer of its own (``sw``) is analyzed by the generic
    analyzer; anything else (``klingon``, ``""``) is an error, not a new language.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"lang must be a language code (str), not {type(value).__name__}")
    if not _LANGUAGE_TAG.fullmatch(value.strip()):
        raise ValueError(f"lang {value!r} is not a language code (ISO 639-1 such as 'en', 'ru', 'pt-BR')")
    return value.strip()


def _field_values(value: object) -> dict[str, object]:
    if not isinstance(value, Mapping) or not all(isinstance(name, str) for name in value):
        raise TypeError(f"fields must map field names (str) to values, not {type(value).__name__}")
    return dict(value)


@attrs.define
class Document:
    """A document to index. ``lang=None`` means: detect it from the text.

    ``date`` takes a datetime, a date or an ISO 8601 string and is kept as a naive
    datetime in UTC; ``lang`` must be a language code. ``fields`` holds the values of the
    fields declared in the index (:mod:`searchlib.fields`), checked when it is added.
    """

    id: str = attrs.field(converter=_text)
    title: str = attrs.field(converter=_text)
    body: str = attrs.field(converter=_text)
    lang: str | None = attrs.field(default=None, converter=to_language)
    date: datetime | None = attrs.field(default=None, converter=to_datetime)
    source: str | None = attrs.field(default=None)
    fields: dict[str, object] = attrs.field(factory=dict, converter=_field_values)

    @id.validator
    def _id_not_empty(self, _attribute: attrs.Attribute, value: str) -> None:
        if not value.strip():
            raise ValueError("a document id must not be empty")

    @source.validator
    def _source_is_text(self, _attribute: attrs.Attribute, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"source must be text, not {type(value).__name__}")
