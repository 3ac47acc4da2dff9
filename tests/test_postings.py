"""searchlib writes postings itself (searchlib.postings): they must be what Whoosh's own
writer makes of the same documents, read back through Whoosh, term by term."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import searchlib
from analyzers.names import name_tokens
from analyzers.tokenizer import spans
from searchlib.building import _fingerprint, chunks, fields_of
from searchlib.highlight import LONG_WORD
from searchlib.postings import PostingTable
from searchlib.schema import FINGERPRINT, NAMES, body_field, title_field
from searchlib.storage import open_whoosh

EXTRA = [
    searchlib.Document(id="th", title="ประเทศไทย", body="ที่ประชุมอาเซียนจัดขึ้นที่กรุงเทพ ประเทศไทย " * 3),
    searchlib.Document(id="zh", title="东盟", body="东盟峰会在老挝举行。东盟国家领导人出席。", lang="zh"),
    searchlib.Document(
        id="en", title="", body="ASEAN leaders met in Laos; the ASEAN summit ended.", lang="en"
    ),
    searchlib.Document(id="ar", title="آسيان", body="اجتمع قادة الآسيان في لاوس", date=None, source="wire"),
    searchlib.Document(id="many", title="Repeat", body=" ".join(["word"] * 300 + ["Laos"] * 7), lang="en"),
]


def segment_arrays(path: Path) -> Iterator[tuple[Any, Any]]:
    """Each segment's Whoosh reader and its arrays (searchlib.arrays), loaded as a search
    loads them; the reader is closed once they are all read."""
    from searchlib import arrays

    whoosh = open_whoosh(path)
    reader = whoosh.reader()
    try:
        for leaf, _ in reader.leaf_readers():
            with whoosh.storage.open_file(arrays.file_name(leaf.segment())) as opened:
                yield leaf, arrays.load(opened.file.fileno(), leaf.doc_count_all())
    finally:
        reader.close()


def whoosh_fields(document: searchlib.Document) -> dict[str, object]:
    """The document as Whoosh's own writer takes it: text fields analyzed by Whoosh."""
    lang = fields_of(document)[0]["lang"]
    key = searchlib.schema.analyzers.canonical(lang)
    text = f"{document.title}\n{document.body}"
    fields: dict[str, object] = {
        "id": document.id,
        "lang": lang,
        "title": document.title,
        "body": document.body,
        title_field(key): document.title,
        body_field(key): document.body,
        NAMES: " ".join(token.term for token in name_tokens(text, lang)),
        FINGERPRINT: _fingerprint(document),
    }
    if document.source is not None:
        fields["source"] = document.source
    return fields


def contents(path: Path) -> dict:
    """Everything a reader sees of an index: term infos, postings, lengths, stored fields."""
    with open_whoosh(path).reader() as reader:
        seen: dict = {}
        for field, term in reader.all_terms():
            info = reader.term_info(field, term)
            matcher = reader.postings(field, term)
            postings = []
            while matcher.is_active():
                # A field without values (ids) reads None from a block, "" when inlined.
                postings.append((matcher.id(), matcher.weight(), matcher.value() or None))
                matcher.next()
            seen[field, term] = (
                info.weight(),
                info.doc_frequency(),
                info.min_length(),
                info.max_length(),
                info.max_weight(),
                info.min_id(),
                info.max_id(),
                postings,
            )
        for docnum in range(reader.doc_count_all()):
            for field in reader.indexed_field_names():
                seen["length", docnum, field] = reader.doc_field_length(docnum, field)
            seen["stored", docnum] = reader.stored_fields(docnum)
        return seen


def numbered(documents: list[searchlib.Document], copies: int) -> list[searchlib.Document]:
    return [
        searchlib.Document(id=f"{d.id}-{n}", title=d.title, body=d.body, lang=d.lang, source=d.source)
        for n, d in enumerate(documents * copies)
    ]


def whoosh_index(path: Path, *batches: list[searchlib.Document]) -> Path:
    """Whoosh's own writer given each batch in the order a builder files it (a chunk at a time)."""
    searchlib.Index.create(path).close()
    with open_whoosh(path).writer() as writer:
        for batch in batches:
            for chunk in chunks(batch):
                for document in chunk.documents:
                    writer.add_document(**whoosh_fields(document))
    return path


@pytest.mark.parametrize("memory_mb", [256, 1], ids=["in memory", "spilled to runs"])
def test_postings_are_what_whoosh_writes(tmp_path: Path, seed_documents, memory_mb: int) -> None:
    documents = numbered([*seed_documents, *EXTRA], 8 if memory_mb == 1 else 1)
    with searchlib.Index.create(tmp_path / "ours") as ours:
        ours.memory_mb = memory_mb
        ours.add(documents)
    expected = contents(whoosh_index(tmp_path / "whoosh", documents))
    seen = contents(tmp_path / "ours")
    assert sum(1 for key in expected if len(key) == 2 and key[0] != "stored") > 1000
    assert seen.keys() == expected.keys()
    assert [key for key in expected if seen[key] != expected[key]] == []


def test_whoosh_merges_our_segments_into_what_it_writes(tmp_path: Path, seed_documents) -> None:
    """Segments searchlib writes are merged by Whoosh's own code (commits, optimize)."""
    documents = numbered([*seed_documents, *EXTRA], 2)
    halves = documents[: len(documents) // 2], documents[len(documents) // 2 :]
    with searchlib.Index.create(tmp_path / "ours") as ours:
        for half in halves:
            ours.add(half)
        ours.optimize()
    expected = contents(whoosh_index(tmp_path / "whoosh", *halves))
    assert contents(tmp_path / "ours") == expected


def test_spilled_runs_merge_into_the_same_postings(tmp_path: Path) -> None:
    """Postings spilled to many runs come back merged, by field and term, in document order."""
    postings = [
        (field, docnum, [(f"t{(docnum * 7 + k) % 13}", 1.0, b"v") for k in range(docnum % 5 + 1)])
        for docnum in range(200)
        for field in ("b", "a")
    ]
    whole, spilled = PostingTable(1 << 30, tmp_path), PostingTable(2_000, tmp_path)
    for field, docnum, items in postings:
        whole.add(field, docnum, len(items), items)
        spilled.add(field, docnum, len(items), items)
    assert len(spilled._runs) > 20

    def joined(table: PostingTable) -> list:
        return [(field, term, [p for part in parts for p in part]) for field, term, parts in table.entries()]

    expected = joined(whole)
    assert [entry[:2] for entry in expected] == sorted(
        {(f, t) for f, _, items in postings for t, _, _ in items}
    )
    assert joined(spilled) == expected
    # What finishing costs, counted as filed: every posting once, a term once per run.
    assert whole.postings == spilled.postings == sum(len(items) for _, _, items in postings)
    assert whole.terms == len(expected) < spilled.terms
    spilled.close()
    assert not list(tmp_path.iterdir())  # the runs were anonymous files, gone


def test_segment_arrays_hold_every_scored_term_as_whoosh_reads_it_and_a_merge_gets_them_too(
    tmp_path: Path,
) -> None:
    """Each segment's arrays (searchlib.arrays), written with its postings or derived from a
    segment Whoosh merged, give every term of every scored field the document numbers and
    weights Whoosh's own matchers read, and no term more."""
    import numpy as np

    from searchlib import arrays

    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    index = searchlib.Index.create(tmp_path / "index")
    for batch in range(3):
        index.add(
            searchlib.Document(
                id=f"d{batch}-{n}",
                title=words[n % 10],
                body=" ".join(words[(n * k) % 10] for k in range(1, 2 + n % 40)),
                lang=("en", "de", "ru")[n % 3],
            )
            for n in range(300)
        )
        if batch == 1:
            index.delete([f"d0-{n}" for n in range(0, 300, 7)])
    for merged in (False, True):
        if merged:
            index.optimize()  # one segment, written by Whoosh's merge: its arrays are derived
        for leaf, found in segment_arrays(tmp_path / "index"):
            scored = arrays.scored_fields(leaf.schema)
            positioned = arrays.positioned_fields(leaf.schema)
            assert body_field("en") in positioned and title_field("en") not in positioned
            assert found is not None
            # a builder numbers each body word by its term; a merge's arrays read positions instead
            assert (found.word_terms is not None) == (not merged)
            checked = 0
            for field in scored & set(leaf.indexed_field_names()):
                for term, _ in leaf.iter_field(field):
                    expected = list(arrays.block_postings(leaf.postings(field, term)))  # live ones
                    ids, weights = found.postings(field, term.decode("utf-8"))
                    live = [not leaf.is_deleted(docnum) for docnum in ids.tolist()]
                    assert ids[live].tolist() == [d for d, _ in expected]
                    assert weights[live].astype(float).tolist() == [w for _, w in expected]
                    text = term.decode("utf-8")
                    positions = found.matched_positions(field, [text], [d for d, _ in expected])
                    if field in positioned:  # each live document's positions, as Whoosh decodes them
                        matcher, whooshs = leaf.postings(field, term), {}
                        while matcher.is_active():
                            whooshs[matcher.id()] = dict.fromkeys(matcher.value_as("positions"), text)
                            matcher.next()
                        assert positions == whooshs
                    else:
                        assert positions is None
                    checked += 1
                assert found.postings(field, "nosuchterm")[0].size == 0
            assert checked > 20
            for docnum in range(leaf.doc_count_all()):  # where each word of each body starts and ends
                body = leaf.stored_fields(docnum)["body"]
                expected = [(start, min(end - start, LONG_WORD)) for start, end in spans(body, spaced=True)]
                starts, lengths = found.body_words(docnum)
                assert list(zip(starts, lengths, strict=True) if expected else []) == expected
            assert found.count(body_field("en"), "alpha") == np.count_nonzero(
                found.postings(body_field("en"), "alpha")[0] >= 0
            )
        assert len(list((tmp_path / "index").glob("*.sla"))) == len(list((tmp_path / "index").glob("*.seg")))
    index.close()


def test_a_page_matched_for_many_terms_at_once_is_each_terms_matches_together(tmp_path: Path) -> None:
    """A snippet's matched words, asked for many terms at once (a table of the segment's
    terms past a few) or a few (compared one by one), are each term's own matches put
    together; a stopword (a word with no term) never matches. Both for bodies whose words
    a builder numbered and for a merged segment's, read from the postings."""
    import random

    from searchlib import arrays

    rng = random.Random(11)
    vocabulary = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "iota", "kappa", "lambda"]
    index = searchlib.Index.create(tmp_path / "index")
    for batch in range(2):
        index.add(
            searchlib.Document(
                id=f"d{batch}-{n}",
                title="",
                body=" ".join(rng.choice([*vocabulary, "the", "and"]) for _ in range(rng.randrange(1, 60))),
                lang="en",
            )
            for n in range(80)
        )
    field = body_field("en")
    for merged in (False, True):
        if merged:
            index.optimize()
        for leaf, found in segment_arrays(tmp_path / "index"):
            assert found is not None and (found.word_terms is not None) == (not merged)
            if not merged:
                assert arrays.NO_TERM in found.word_terms.tolist()  # the stopwords
            terms = [term.decode("utf-8") for term, _ in leaf.iter_field(field)]
            docnums = list(range(leaf.doc_count_all()))
            alone = {term: found.matched_positions(field, [term], docnums) for term in terms}
            for size in [1, 2, 4, 5, 8, len(terms)] * 6:
                asked = rng.sample(terms, size)
                pages = sorted(rng.sample(docnums, rng.randrange(1, 12)))
                expected = {docnum: {} for docnum in pages}
                for term in asked:
                    for docnum in pages:
                        expected[docnum].update(alone[term][docnum])
                together = found.matched_positions(field, asked, pages)
                assert together == expected
    index.close()


def test_positions_decode_as_whooshs_decoder_reads_them() -> None:
    """The strict reader of Whoosh's position encoding, with its shortcut for lists whose
    deltas are all under 256, gives Whoosh's positions for random lists of every shape."""
    import random

    from whoosh.formats import Positions

    from searchlib import arrays

    encoder, rng = Positions(), random.Random(7)
    for _ in range(3000):
        count = rng.choice([1, 2, 3, 8, 200])
        spread = rng.choice([40, 300, 70_000, 3_000_000])
        positions = sorted({rng.randrange(spread) for _ in range(count)})
        value = encoder.encode(positions)
        assert list(arrays.decode_positions(value)) == encoder.decode_positions(value) == positions


def test_bodies_whose_words_a_writer_could_not_number_are_read_from_their_postings(tmp_path: Path) -> None:
    """Past ``max_word_terms`` distinct terms, a body's words are not numbered (NOT_KEPT):
    its matched positions still come, from the postings' values, as for a numbered body."""
    from whoosh.formats import Positions

    from searchlib import arrays

    field = body_field("en")
    bodies = [{"alpha": [0, 2], "beta": [1]}, {"gamma": [0], "alpha": [1]}]  # gamma: a third term
    writer = arrays.ArraysWriter({field}, {field}, max_word_terms=2)
    for docnum, terms in enumerate(bodies):
        words = 1 + max(max(positions) for positions in terms.values())
        writer.document(
            docnum, [6 * n for n in range(words)], field, terms, [6 * n + 5 for n in range(words)]
        )
    for term in sorted({term for terms in bodies for term in terms}):
        writer.start_terms(field, [term])
        having = [(docnum, terms[term]) for docnum, terms in enumerate(bodies) if term in terms]
        writer.postings(
            [docnum for docnum, _ in having],
            [1.0] * len(having),
            [Positions().encode(positions) for _, positions in having],
        )
    with (tmp_path / "a.sla").open("wb") as out:
        writer.write(out, len(bodies))
    with (tmp_path / "a.sla").open("rb") as opened:
        found = arrays.load(opened.fileno(), len(bodies))
    assert found is not None
    assert found.word_terms.tolist() == [0, 1, 0, arrays.NOT_KEPT, arrays.NOT_KEPT]  # alpha, beta, alpha
    assert found.matched_positions(field, ["alpha", "beta", "gamma"], [0, 1]) == {
        0: {0: "alpha", 1: "beta", 2: "alpha"},
        1: {0: "gamma", 1: "alpha"},
    }
    assert found.matched_positions(field, ["beta"], [0, 1]) == {0: {1: "beta"}, 1: {}}


def test_stored_fields_are_kept_as_uncompressed_zlib_blocks_in_new_and_merged_segments(
    tmp_path: Path, seed_documents
) -> None:
    """A search reads each shown document's stored fields; kept as zlib's stored blocks
    (level 0), they read in a tenth of the time and stay what every Whoosh decompresses.
    Whoosh's merge (optimize) writes them so too."""
    import pickle
    import zlib

    from whoosh.codec.whoosh3 import STORED_COLUMN
    from whoosh.columns import VarBytesColumn

    with searchlib.Index.create(tmp_path / "index") as index:
        for half in (seed_documents[::2], seed_documents[1::2]):
            index.add(half)
        for merged in (False, True):
            if merged:
                index.optimize()
            reader = open_whoosh(tmp_path / "index").reader()
            checked = 0
            for leaf, offset in reader.leaf_readers():
                stored = leaf._perdoc._cached_reader("_stored", STORED_COLUMN)._child
                for docnum in range(leaf.doc_count_all()):
                    raw = VarBytesColumn.Reader.__getitem__(stored, docnum)
                    fields = pickle.loads(zlib.decompress(raw))
                    assert len(raw) > len(pickle.dumps(fields, 2)), "compressed"
                    assert fields["id"] == reader.stored_fields(docnum + offset)["id"]
                    checked += 1
            reader.close()
            assert checked == len(seed_documents)
