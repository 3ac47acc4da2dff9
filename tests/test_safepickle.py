"""No code from an index, ever: payloads planted in an index's pickles are refused before they
run, through the API and the CLI; every pickle a real index holds still loads."""

from __future__ import annotations

import datetime
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import SEEDS, reseal, searchlib_command
from whoosh import fields
from whoosh import index as whoosh_index

import searchlib
from searchlib import safepickle
from searchlib.loading import load_paths
from searchlib.storage import INDEX_NAME, DurableFileStorage

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("index-0.1*"))  # before checksums


class Payload:
    """Unpickling this makes the directory ``marker``: proof that code from the index ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


@pytest.fixture
def seeds_index(tmp_path: Path) -> Path:
    path = tmp_path / "index"
    with searchlib.Index.create(path) as index:
        index.add([d for d in load_paths([SEEDS]) if isinstance(d, searchlib.Document)])
    return path


def _rewrite_toc(path: Path, change) -> None:
    """Write the next generation of the table of contents with ``change`` applied to it."""
    storage = DurableFileStorage(str(path))
    toc = whoosh_index.TOC.read(storage, INDEX_NAME)
    change(toc)
    toc.generation += 1
    toc.write(storage, INDEX_NAME)


def _refused(path: Path, marker: Path) -> None:
    """Refused as damaged (its checksums differ), then, with checksums forged to match,
    refused as untrusted; nothing in it ran either time."""
    with pytest.raises(searchlib.IndexCorruptError), searchlib.Index.open(path) as index:
        index.search("АСЕАН")
    assert not marker.exists()
    reseal(path)
    with (
        pytest.raises(searchlib.UntrustedIndexError, match="mkdir") as caught,
        searchlib.Index.open(path) as index,
    ):
        index.search("АСЕАН")
    assert str(path) in str(caught.value)
    cli = subprocess.run(
        searchlib_command("query", "АСЕАН", "--index", str(path)), capture_output=True, text=True
    )
    assert cli.returncode == 2 and "mkdir" in cli.stderr and "Traceback" not in cli.stderr
    assert not marker.exists()


def test_a_payload_in_the_schema_is_refused(seeds_index: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _rewrite_toc(seeds_index, lambda toc: setattr(toc.schema, "payload", Payload(marker)))
    _refused(seeds_index, marker)


def test_a_payload_in_the_segment_list_is_refused(seeds_index: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _rewrite_toc(seeds_index, lambda toc: setattr(toc.segments[0], "payload", Payload(marker)))
    _refused(seeds_index, marker)


def test_a_payload_in_stored_fields_is_refused_when_the_document_is_a_hit(
    seeds_index: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    ix = whoosh_index.open_dir(str(seeds_index), indexname=INDEX_NAME)
    writer = ix.writer()
    writer.add_document(id="evil", lang="ru", title=Payload(marker), body_ru="АСЕАН")
    writer.commit()
    ix.close()
    _refused(seeds_index, marker)


def test_a_payload_in_a_segment_s_directory_of_parts_is_refused(seeds_index: Path, tmp_path: Path) -> None:
    """A compound segment ends with the pickled directory of its parts (terms, postings,
    stored fields, columns): the first thing read when a search opens it."""
    import struct

    marker = tmp_path / "pwned"
    segment = next(seeds_index.glob("searchlib_*.seg"))
    data = segment.read_bytes()
    (directory_offset,) = struct.unpack(">q", data[:8])
    segment.write_bytes(data[:directory_offset] + pickle.dumps(Payload(marker)) * 2)
    _refused(seeds_index, marker)


def test_a_legacy_table_of_contents_is_refused(seeds_index: Path) -> None:
    toc = next(seeds_index.glob("_searchlib_*.toc"))
    data = bytearray(toc.read_bytes())
    data[8:12] = (-106).to_bytes(4, "big", signed=True)  # a Whoosh 1.x format number
    toc.write_bytes(bytes(data))
    with pytest.raises(searchlib.SearchlibError):
        searchlib.Index.open(seeds_index)


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_every_release_s_index_loads_through_the_restricted_unpickler(fixture: Path, tmp_path: Path) -> None:
    copy = tmp_path / fixture.name
    shutil.copytree(fixture, copy)
    with searchlib.Index.open(copy) as index:
        assert [h.id for h in index.search("АСЕАН date:2024")] == ["000_a56dd54d2768551e"]


def test_every_field_type_loads_through_the_restricted_unpickler(tmp_path: Path) -> None:
    schema = fields.Schema(
        text=fields.TEXT(stored=True, sortable=True),
        ident=fields.ID(stored=True, unique=True, sortable=True),
        idlist=fields.IDLIST(stored=True),
        keyword=fields.KEYWORD(stored=True, sortable=True, commas=True),
        number=fields.NUMERIC(int, stored=True, sortable=True),
        ratio=fields.NUMERIC(float, stored=True),
        date=fields.DATETIME(stored=True, sortable=True),
        flag=fields.BOOLEAN(stored=True),
        extra=fields.STORED(),
    )
    storage = DurableFileStorage(str(tmp_path))
    ix = storage.create_index(schema, indexname="every")
    writer = ix.writer()
    writer.add_document(
        text="glacier melts", ident="a", idlist="x y", keyword="ice,snow", number=3, ratio=3.5,
        date=datetime.datetime(2024, 1, 2), flag=True, extra={"k": [1, 2.5, "v", b"b", (3,)]},
    )  # fmt: skip
    writer.commit()
    ix.close()
    ix = storage.open_index(indexname="every")
    with ix.searcher() as searcher:
        stored = searcher.stored_fields(0)
        assert stored["extra"] == {"k": [1, 2.5, "v", b"b", (3,)]} and stored["flag"] is True
        assert searcher.reader().column_reader("number")[0] == 3 and stored["ratio"] == 3.5
        assert [searcher.reader().column_reader(name)[0] for name in ("ident", "keyword")]
    ix.close()


def test_the_restricted_unpickler_is_what_whoosh_reads_with() -> None:
    import pickle
    import sys

    import whoosh.columns
    import whoosh.filedb.structfile

    for module in (whoosh.columns, whoosh.filedb.structfile, sys.modules["whoosh.index"]):
        names = vars(module).values()
        assert not any(v is pickle.loads or v is pickle.load or v is pickle for v in names)
        assert any(
            v is safepickle.loads or v is safepickle.load or v is safepickle._SAFE_PICKLE for v in names
        )


# -- only its own files -----------------------------------------------------------------


def _reindex(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        searchlib_command("index", str(SEEDS / "002_3a14a5f8f92bcbd2.txt"), "--index", str(path)),
        capture_output=True,
        text=True,
    )


def test_a_link_planted_as_the_temporary_directory_is_not_followed(seeds_index: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me", encoding="utf-8")
    (seeds_index / f"{INDEX_NAME}.tmp").symlink_to(victim)
    out = _reindex(seeds_index)
    assert out.returncode == 0, out.stderr
    assert (victim / "precious.txt").read_text(encoding="utf-8") == "keep me"


def test_a_link_planted_as_the_lock_file_is_not_followed(seeds_index: Path, tmp_path: Path) -> None:
    target = tmp_path / "created-by-the-writer"
    lock = seeds_index / f"{INDEX_NAME}_WRITELOCK"
    lock.unlink(missing_ok=True)  # the lock file of earlier commits, replaced by a link
    lock.symlink_to(target)
    out = _reindex(seeds_index)
    assert out.returncode == 2 and "write lock" in out.stderr and "Traceback" not in out.stderr
    assert not target.exists()


def test_create_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "searchlib_todo.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(searchlib.SearchlibError, match="not empty"):
        searchlib.Index.create(tmp_path / "dir")
    assert (tmp_path / "dir" / "searchlib_todo.txt").read_text(encoding="utf-8") == "mine"


def test_an_index_without_its_table_of_contents_is_not_replaced(seeds_index: Path) -> None:
    for toc in seeds_index.glob("_searchlib_*.toc"):
        toc.unlink()
    segments = sorted(p.name for p in seeds_index.iterdir())
    out = _reindex(seeds_index)
    assert out.returncode == 2 and "no table of contents: a damaged index" in out.stderr
    assert sorted(p.name for p in seeds_index.iterdir()) == segments  # nothing deleted
