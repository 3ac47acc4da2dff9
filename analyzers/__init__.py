"""Language analysis for searchlib: text in, index terms with offsets out.

Importable on its own: nothing here knows about Whoosh.
"""

from __future__ import annotations

from analyzers.chain import Chain
from analyzers.detect import detect_language
from analyzers.registry import GENERIC, canonical, chain, languages
from analyzers.token import Token
from analyzers.tokenizer import words

__all__ = [
    "Chain",
    "Token",
    "analyze",
    "canonical",
    "chain",
    "detect_language",
    "languages",
    "words",
]


def analyze(text: str, lang: str | None) -> list[Token]:
    """Terms of ``text`` under the analyzer of ``lang`` (unknown codes: generic)."""
    term = chain(canonical(lang)).term
    bigram = chain(GENERIC).term
    tokens = []
    for position, (word, start, end, is_bigram) in enumerate(words(text)):
        value = bigram(word) if is_bigram else term(word)
        if value:
            tokens.append(Token(value, position, start, end))
    return tokens
