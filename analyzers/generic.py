"""Any other language: NFKC and case folding only (bigrams come from the tokenizer)."""

from __future__ import annotations

from analyzers.chain import Chain
from analyzers.normalize import fold


def make() -> Chain:
    return Chain(fold=fold, stem=str)
