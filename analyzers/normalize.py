"""Normalization shared by all languages: NFKC, case folding, ASCII digits."""

from __future__ import annotations

import sys
import unicodedata

_DIGITS = {
    cp: str(unicodedata.decimal(chr(cp)))
    for cp in range(0x80, 0x20000)
    if unicodedata.category(chr(cp)) == "Nd"
}
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"))
_TABLE = {**_DIGITS, **_INVISIBLE}


def fold(word: str) -> str:
    """NFKC, casefold, drop invisible joiners and soft hyphens, any digit to ASCII."""
    if word.isascii():
        return word.lower()
    word = unicodedata.normalize("NFKC", word).casefold().translate(_TABLE)
    return sys.intern(word) if len(word) < 40 else word
