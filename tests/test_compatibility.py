"""Indexes written by earlier releases (and by the other Whoosh distribution) still open.

``tests/fixtures/index-<version>/`` holds the seeds as each release wrote them (add one per
release; ``0.1.0.dev0`` predates the fingerprint field). CI runs this suite under whoosh3
and under Whoosh 2.7.4.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import AR_ARTICLE, NO_ARTICLE, RU_ASEAN, SEEDS, searchlib_command

import searchlib


def stem(doc_id: str) -> str:
    """The id searchlib 0.1 gave a file: its name without the suffix."""
    return doc_id.removesuffix(".txt")


FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("index-0.1*"))  # ids from file names
ARRAYS_FIXTURE = Path(__file__).parent / "fixtures" / "index-0.2.0.dev0"  # segments with .sla arrays
POSITIONS_FIXTURE = Path(__file__).parent / "fixtures" / "index-0.2.0.dev1"  # arrays with positions too
ARRAYS_FIXTURES = [ARRAYS_FIXTURE, POSITIONS_FIXTURE]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_an_index_from_an_earlier_release_opens_and_answers(fixture: Path, tmp_path: Path) -> None:
    copy = tmp_path / fixture.name
    shutil.copytree(fixture, copy)
    with searchlib.Index.open(copy) as index:
        assert len(index) == 5
        found = [h.id for h in index.search("АСЕАН")]
        assert found[0] == stem(RU_ASEAN) and set(found[:3]) == {
            stem(RU_ASEAN),
            stem(AR_ARTICLE),
            stem(NO_ARTICLE),
        }
        assert index.search("naturkatastrofe")[0].id == stem(NO_ARTICLE)
        index.add([searchlib.Document(id="new", title="Vientiane", body="A new document about Vientiane")])
        assert index.search("Vientiane")[0].id == "new"


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_reindexing_files_into_an_earlier_release_index_leaves_no_stale_copies(
    fixture: Path, tmp_path: Path
) -> None:
    copy = tmp_path / fixture.name
    shutil.copytree(fixture, copy)
    out = subprocess.run(
        searchlib_command("index", str(SEEDS), "--index", str(copy)), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "5 copies under searchlib 0.1 file ids removed" in out.stdout
    with searchlib.Index.open(copy) as index:
        assert len(index) == 5
        found = [h.id for h in index.search("АСЕАН")]
        assert found[0] == RU_ASEAN and set(found[:3]) == {RU_ASEAN, AR_ARTICLE, NO_ARTICLE}


def _rankings(index: searchlib.Index) -> list[list[tuple[str, float, str]]]:
    queries = ["АСЕАН", "naturkatastrofe", "Laos", "الوزراء", "Вьентьян OR Лаос", "ASEAN -Laos"]
    return [[(h.id, h.score, h.snippet) for h in index.search(q, limit=5)] for q in queries]


@pytest.mark.parametrize("fixture", ARRAYS_FIXTURES, ids=lambda f: f.name)
def test_an_index_with_postings_arrays_opens_and_answers_the_same_without_them(
    fixture: Path, tmp_path: Path
) -> None:
    """The fixtures were written by whoosh3 with each segment's arrays (searchlib.arrays;
    0.2.0.dev1's keep the bodies' positions and word starts too); CI also runs this under
    Whoosh 2.7.4. Deleted or damaged arrays are read around (the Whoosh segment is the
    format of record) with the same rankings and snippets, and the next commit writes them
    again."""
    copy = tmp_path / "index"
    shutil.copytree(fixture, copy)
    assert list(copy.glob("*.sla"))
    with searchlib.Index.open(copy) as index:
        expected = _rankings(index)
    assert expected[0][0][0] == RU_ASEAN and expected[1][0][0] == NO_ARTICLE
    for damage in ("delete", "truncate", "scribble"):
        damaged = tmp_path / damage
        shutil.copytree(fixture, damaged)
        for arrays in damaged.glob("*.sla"):
            if damage == "delete":
                arrays.unlink()
            elif damage == "truncate":
                arrays.write_bytes(arrays.read_bytes()[:100])
            else:
                data = bytearray(arrays.read_bytes())
                data[-64:] = b"\xff" * 64  # its last part out of bounds
                arrays.write_bytes(bytes(data))
        with searchlib.Index.open(damaged) as index:
            assert _rankings(index) == expected, damage
            if damage == "delete":
                index.add([searchlib.Document(id="new", title="Vientiane", body="Vientiane", lang="en")])
        if damage == "delete":
            assert len(list(damaged.glob("*.sla"))) == 2  # the old segment's again, and the new one's


@pytest.mark.parametrize("fixture", [*FIXTURES, *ARRAYS_FIXTURES], ids=lambda f: f.name)
def test_a_failed_add_deletes_uncommitted_files_and_keeps_an_earlier_releases_commit(
    fixture: Path, tmp_path: Path
) -> None:
    """After a failed add, files no commit lists go (what a builder out of descriptors left);
    an earlier release's commit, listed by its table of contents alone, keeps every file."""
    copy = tmp_path / fixture.name
    shutil.copytree(fixture, copy)
    (copy / "notes_2024.txt").write_text("the user's own file", encoding="utf-8")  # not the index's
    before = sorted(p.name for p in copy.iterdir())
    (copy / "searchlib_leftover00000000.pst").write_bytes(b"half-written")
    (copy / ".searchlib-tmp-0123456789ab").mkdir()

    def failing():
        yield searchlib.Document(id="new", title="Vientiane", body="A new document about Vientiane")
        raise RuntimeError("the input broke")

    with searchlib.Index.open(copy) as index:
        answer = index.search("naturkatastrofe")
        with pytest.raises(RuntimeError, match="the input broke"):
            index.add(failing())
        assert sorted(p.name for p in copy.iterdir() if p.name != "searchlib_WRITELOCK") == before
        assert len(index) == 5 and index.search("naturkatastrofe") == answer
