"""The unit every analyzer produces."""

from __future__ import annotations

import attrs


@attrs.frozen(slots=True)
class Token:
    """An index term with where it came from.

    ``position`` counts words (stopwords keep their slot, so phrases stay exact);
    ``text[start:end]`` is the surface word, which highlighting needs.
    """

    term: str
    position: int
    start: int
    end: int
