"""Snippets made from the positions the index keeps are those made by analyzing the text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import searchlib
from benchmarks.common import SHARED_DATA, read_jsonl
from benchmarks.quality import documents, xquad_split

XQUAD = SHARED_DATA / "xquad"


@pytest.mark.skipif(not XQUAD.is_dir(), reason=f"needs the XQuAD data in {XQUAD}")
def test_snippets_from_kept_positions_equal_snippets_from_analysis(tmp_path: Path) -> None:
    """Every 6th XQuAD document (12 languages, Thai and Chinese bigrams among them) and 150
    held-out questions: the same snippets with the segments' position arrays as with those
    overwritten, and as without the files (the text of each hit is then analyzed)."""
    path = tmp_path / "index"
    with searchlib.Index.create(path) as index:
        index.add(documents(read_jsonl(XQUAD / "corpus.jsonl"))[::6], jobs=1)
        index.add([searchlib.Document(id="more", title="Ukraine", body="A second segment.", lang="en")])
    questions = [q["text"] for q in read_jsonl(XQUAD / "queries.jsonl") if xquad_split(q["id"]) == "heldout"]
    questions = questions[:: len(questions) // 150]

    def snippets() -> list[list[tuple[str, str]]]:
        with searchlib.Index.open(path) as index:
            return [[(hit.id, hit.snippet) for hit in index.search(text)] for text in questions]

    def overwrite(part: str) -> None:
        for arrays in path.glob("*.sla"):
            header_length = int.from_bytes(arrays.read_bytes()[10:18], "little")
            data = bytearray(arrays.read_bytes())
            header = json.loads(data[18 : 18 + header_length])
            start, size = header["parts"][part]
            base = (18 + header_length + 7) // 8 * 8
            data[base + start : base + start + size] = b"\xff" * size
            arrays.write_bytes(bytes(data))

    from_positions = snippets()
    marked = [snippet for hits in from_positions for _, snippet in hits if "<em>" in snippet]
    assert len(marked) > 700
    overwrite("word_lengths")  # every word "too long": each marked word's end is read from the text
    assert snippets() == from_positions
    overwrite("values")  # positions overwritten: read around, as if not kept
    assert snippets() == from_positions
    for arrays in path.glob("*.sla"):
        arrays.unlink()
    assert snippets() == from_positions


def test_a_passage_is_read_from_word_starts_only_where_they_fit_the_text() -> None:
    """Kept word starts give the analysis's passage; starts that are no word's (a space, past
    the end) or none at all give None, and the caller analyzes the text instead."""
    from analyzers import analyze, tokenizer
    from searchlib import highlight

    text = "Vientiane is the capital of Laos, and Laos borders Vietnam. " * 3 + "Nothing else."
    terms = {token.term for token in analyze("Laos Vietnam", "en")}
    starts = tokenizer.word_spans(text)[0]
    words = [word for word, *_ in tokenizer.words(text)]
    matched = {
        position: analyze(word, "en")[0].term for position, word in enumerate(words) if word[0] in "LV"
    }
    matched = {position: term for position, term in matched.items() if term in terms}
    expected = highlight.snippet(text, "en", terms)
    assert "<em>Laos</em>" in expected
    assert highlight.snippet_at(text, matched, starts) == expected
    assert highlight.snippet(text, "en", terms, word_starts=starts) == expected
    assert highlight.snippet_at(text, matched, [start - 1 for start in starts[1:]]) is None  # spaces
    assert highlight.snippet_at(text, matched, [start + len(text) for start in starts]) is None
    assert highlight.snippet_at(text, matched, []) is None


def test_crafted_word_starts_never_raise() -> None:
    """Word starts come from an index file, which may be crafted: one past the text among
    good ones, or out of order, still give a snippet with the name marked (from the starts
    or, where they do not fit, from the analysis), never an error."""
    from analyzers.names import names_at
    from searchlib import highlight

    text = "Laos and Vietnam signed. Laos agreed."
    for starts in ([0, 10**6, 9], [0, 9, 5], [25, 0], [len(text)]):
        assert "<em>Laos</em>" in highlight.snippet(text, "en", set(), {"ls"}, word_starts=starts)
        highlight.snippet_at(text, {0: "lao"}, starts)  # a passage or None
    assert names_at(text, [0, 10**6, 9], "en", {"ls"}) is None
    starts, lengths = [0, 5, 9, 17, 25, 30], [4, 3, 7, 6, 4, 6]
    expected = highlight.snippet_at(text, {0: "lao", 4: "lao"}, starts)
    assert "<em>Laos</em>" in expected
    for kept in (lengths, [*lengths[:2], highlight.LONG_WORD, *lengths[3:]]):  # a long word is read
        assert highlight.passage_at(text, [0, 4], ["lao", "lao"], starts, word_lengths=kept) == expected
    for kept in ([0] * 6, [4, 3, 7, 6, 4, 200], [200] * 6, [1] * 6):  # kept by a damaged file
        passage = highlight.passage_at(text, [0, 4], ["lao", "lao"], starts, word_lengths=kept)
        assert passage is None or passage.count("<em>") == 2  # past the text: None


@pytest.mark.parametrize("control", ["", "\x00", "\x01", "\x00\x01"])
def test_a_passage_is_escaped_and_marked_whatever_characters_it_holds(control: str) -> None:
    """Markup in a text is escaped and only its matched words are marked, also where the text
    holds the characters that stand for the marks while a passage is escaped."""
    from analyzers import analyze, tokenizer
    from searchlib import highlight

    text = f'<b>Laos</b> & "Vientiane"{control} <script>Laos</script> it\'s Laos{control}.'
    terms = {token.term for token in analyze("Laos", "en")}
    snippet = highlight.snippet(text, "en", terms, word_starts=tokenizer.word_spans(text)[0])
    expected = (  # from the first word to the last, the text cut before and after
        f"…b&gt;<em>Laos</em>&lt;/b&gt; &amp; &quot;Vientiane&quot;{control} "
        "&lt;script&gt;<em>Laos</em>&lt;/script&gt; it&#x27;s <em>Laos</em>…"
    )
    assert snippet == expected


def test_the_densest_window_is_the_one_every_window_tried_finds() -> None:
    """The passage starts at the first matched word whose window holds the most distinct
    terms, then the most matched words: the scan, which stops once a window reaches the
    last match, agrees with trying every window, over 20,000 random pages of matches."""
    import random

    from searchlib import highlight

    def every_window(terms: list[int], hits: list[int], window: int) -> int:
        scored = [
            (
                len({term for term, at in zip(terms, hits, strict=True) if start <= at < start + window}),
                sum(start <= at < start + window for at in hits),
                -start,
            )
            for start in hits
        ]
        return -max(scored)[2]

    rng = random.Random(20)
    for _ in range(20_000):
        span = rng.randint(12, 200)
        hits = sorted(rng.sample(range(span), rng.randint(1, 12)))
        terms = [rng.randint(0, rng.randint(0, 4)) for _ in hits]
        window = rng.randint(1, 40)
        assert highlight._densest_window(terms, hits, window) == every_window(terms, hits, window)
