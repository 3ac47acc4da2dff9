"""What searchlib indexes: :class:`Document`."""

from __future__ import annotations

from datetime import datetime

import attrs


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


@attrs.define
class Document:
    """A document to index. ``lang=None`` means: detect it from the text."""

    id: str = attrs.field(converter=_text)
    title: str = attrs.field(converter=_text)
    body: str = attrs.field(converter=_text)
    lang: str | None = None
    date: datetime | None = None
    source: str | None = None

    @id.validator
    def _id_not_empty(self, _attribute: attrs.Attribute, value: str) -> None:
        if not value.strip():
            raise ValueError("a document id must not be empty")
