"""Damage found and named: truncations, flipped bytes, deleted and planted files in every
kind of index file are caught by `searchlib check` and by opening or searching (never a
raw traceback, never silently wrong scores), and `check --repair` rolls back to the
previous commit, which the index keeps. Files are damaged through the file system and
the index used through the CLI, as a real process, and the public API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import AR_ARTICLE, NO_ARTICLE, RU_ASEAN, SEEDS, searchlib_command

import searchlib
from searchlib import checking, commits
from searchlib.loading import load_paths
from searchlib.storage import INDEX_NAME


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(searchlib_command(*args), capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture
def two_commits(tmp_path: Path) -> Path:
    """An index whose first commit holds the Norwegian and Arabic seeds, the second the
    Russian ones (АСЕАН is only in the second)."""
    documents = [d for d in load_paths([SEEDS]) if isinstance(d, searchlib.Document)]
    path = tmp_path / "ix"
    with searchlib.Index.create(path) as index:
        index.add([d for d in documents if d.id in (NO_ARTICLE, AR_ARTICLE)])
        index.add([d for d in documents if d.id not in (NO_ARTICLE, AR_ARTICLE)])
    return path


def latest(path: Path) -> commits.Manifest:
    generation = commits.generations(os.listdir(path), INDEX_NAME)[-1]
    manifest = commits.read_manifest(str(path), INDEX_NAME, generation)
    assert manifest is not None
    return manifest


def new_segment(path: Path) -> tuple[str, commits.FileSum]:
    """The segment file of the latest commit that the previous one does not have."""
    manifest = latest(path)
    before = commits.read_manifest(str(path), INDEX_NAME, manifest.generation - 1)
    assert before is not None
    name = next(n for n in manifest.files if n.endswith(".seg") and n not in before.files)
    return name, manifest.files[name]


def flip(file: Path, offset: int) -> None:
    data = bytearray(file.read_bytes())
    data[offset] ^= 0x01
    file.write_bytes(bytes(data))


def damage_part(suffix: str) -> Callable[[Path], tuple[str, str]]:
    """Flip a byte in the middle of the new segment's part ending in ``suffix``."""

    def damage(path: Path) -> tuple[str, str]:
        name, sums = new_segment(path)
        part, offset, length, _ = next(p for p in sums.parts if p[0].endswith(suffix))
        assert length > 0, part  # (a small segment's postings are inlined in its terms)
        flip(path / name, offset + length // 2)
        return name, commits.describe(name, part)

    return damage


def truncate_segment(path: Path) -> tuple[str, str]:
    name, sums = new_segment(path)
    with open(path / name, "r+b") as file:
        file.truncate(sums.size // 2)
    return name, "bytes where"


def delete_segment(path: Path) -> tuple[str, str]:
    name, _ = new_segment(path)
    (path / name).unlink()
    return name, "missing"


def damage_toc(how: str) -> Callable[[Path], tuple[str, str]]:
    def damage(path: Path) -> tuple[str, str]:
        name = commits.toc_name(INDEX_NAME, latest(path).generation)
        toc = path / name
        if how == "truncate":
            toc.write_bytes(toc.read_bytes()[:100])
        else:
            flip(toc, toc.stat().st_size - 20)  # in the segment list
        return name, "table of contents"

    return damage


def damage_manifest(path: Path) -> tuple[str, str]:
    name = commits.manifest_name(INDEX_NAME, latest(path).generation)
    flip(path / name, 40)
    return name, "checksums"


def delete_toc(path: Path) -> tuple[str, str]:
    name = commits.toc_name(INDEX_NAME, latest(path).generation)
    (path / name).unlink()
    return name, "missing"


DAMAGES = {
    "term dictionary flipped": damage_part(".trm"),
    "postings flipped": damage_part(".pst"),
    "stored fields flipped": damage_part("._stored.col"),
    "field lengths flipped": damage_part("_body_ru_len.col"),
    "fingerprints flipped": damage_part(".fingerprint.col"),
    "segment truncated": truncate_segment,
    "segment deleted": delete_segment,
    "table of contents truncated": damage_toc("truncate"),
    "table of contents flipped": damage_toc("flip"),
    "table of contents deleted": delete_toc,
    "checksums flipped": damage_manifest,
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_damage_is_named_and_repair_rolls_back_to_the_previous_commit(
    two_commits: Path, damage: Callable[[Path], tuple[str, str]]
) -> None:
    path = two_commits
    assert checking.check(path).healthy
    name, what = damage(path)

    report = checking.check(path)
    assert not report.healthy and any(name in p and what in p for p in report.problems), report.problems
    with pytest.raises(searchlib.IndexCorruptError, match=name), searchlib.Index.open(path) as index:
        index.search("АСЕАН")
    with (
        pytest.raises(searchlib.IndexCorruptError),  # no commit on a damaged index
        searchlib.Index.open(path) as index,
    ):
        index.add([searchlib.Document(id="n", title="t", body="note", lang="en")])

    repaired = checking.repair(path)
    assert repaired.repaired and "rolled back" in repaired.repaired and "lost" in repaired.repaired
    assert checking.check(path).healthy
    with searchlib.Index.open(path) as index:
        assert len(index) == 2 and index.search("АСЕАН") == []  # the first commit, whole
        index.add([d for d in load_paths([SEEDS / RU_ASEAN]) if isinstance(d, searchlib.Document)])
        assert index.search("АСЕАН")[0].id == RU_ASEAN
    assert checking.check(path).healthy


CLI_DAMAGES = ["postings flipped", "table of contents deleted"]  # the others: through the API above


@pytest.mark.parametrize("damage", [DAMAGES[k] for k in CLI_DAMAGES], ids=CLI_DAMAGES)
def test_the_cli_names_damage_exits_1_and_repairs(two_commits: Path, damage) -> None:
    path = two_commits
    assert run("check", "--index", str(path)).returncode == 0
    name, what = damage(path)
    checked = run("check", "--index", str(path))
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert name in checked.stdout and what in checked.stdout
    queried = run("query", "АСЕАН", "--index", str(path))
    assert queried.returncode == 2 and name in queried.stderr and "Traceback" not in queried.stderr
    added = run("index", str(SEEDS / RU_ASEAN), "--index", str(path))
    assert added.returncode == 2 and "Traceback" not in added.stderr
    repaired = run("check", "--repair", "--index", str(path))
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "rolled back" in repaired.stdout and "lost" in repaired.stdout
    assert run("check", "--index", str(path)).returncode == 0


def test_a_flipped_field_length_never_changes_scores_silently(two_commits: Path) -> None:
    with searchlib.Index.open(two_commits) as index:
        before = index.search("АСЕАН")[0].score
    damage_part("_body_ru_len.col")(two_commits)
    with (
        pytest.raises(searchlib.IndexCorruptError, match="lengths of field body_ru"),
        searchlib.Index.open(two_commits) as index,
    ):
        assert index.search("АСЕАН")[0].score == before


def test_repair_without_an_intact_commit_says_so(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    run("index", str(SEEDS), "--index", str(path))
    for name in os.listdir(path):  # the empty first commit is kept too: damage both
        if name.endswith(".toc"):
            flip(path / name, 30)
    repaired = run("check", "--repair", "--index", str(path))
    assert repaired.returncode == 2 and "no earlier intact commit" in repaired.stderr


def test_a_planted_newer_table_of_contents_is_refused(two_commits: Path, tmp_path: Path) -> None:
    current = latest(two_commits).generation
    planted = two_commits / commits.toc_name(INDEX_NAME, current + 7)
    shutil.copy(two_commits / commits.toc_name(INDEX_NAME, current - 1), planted)
    with pytest.raises(searchlib.IndexCorruptError, match="no checksums"):
        searchlib.Index.open(two_commits)
    assert run("check", "--index", str(two_commits)).returncode == 1


def test_a_healthy_index_checks_intact_and_cleaning_keeps_one_previous_commit(two_commits: Path) -> None:
    for n in range(3):
        with searchlib.Index.open(two_commits) as index:
            index.add([searchlib.Document(id=f"n{n}", title="t", body=f"note {n}", lang="en")])
    names = os.listdir(two_commits)
    assert len(commits.generations(names, INDEX_NAME)) == 2  # the current and the previous
    assert len(commits.generations(names, INDEX_NAME, "sums")) == 2
    listed = set(latest(two_commits).files)
    previous = commits.read_manifest(str(two_commits), INDEX_NAME, latest(two_commits).generation - 1)
    assert previous is not None
    unlisted = set(names) - listed - set(previous.files) - {f"{INDEX_NAME}_WRITELOCK"}
    assert {n for n in unlisted if not n.endswith(".sums")} == set()  # no stray file stays
    checked = run("check", "--index", str(two_commits))
    assert checked.returncode == 0 and "intact" in checked.stdout and "8 documents" in checked.stdout


def test_files_it_did_not_write_are_never_deleted(two_commits: Path) -> None:
    mine = ["searchlib_todo.txt", "searchlib_backup2024.tar.gz", "_searchlib_notes.toc.txt", "notes.seg"]
    for name in mine:
        (two_commits / name).write_text("mine", encoding="utf-8")
    for n in range(3):
        with searchlib.Index.open(two_commits) as index:
            index.add([searchlib.Document(id=f"n{n}", title="t", body=f"note {n}", lang="en")])
            index.optimize()
    assert all((two_commits / name).read_text(encoding="utf-8") == "mine" for name in mine)


# -- links planted under the index's names ---------------------------------------------


PLANTS = ["table of contents", "segment", "checksums", "next table of contents", "next checksums"]


@pytest.mark.parametrize("plant", PLANTS)
def test_a_link_planted_under_an_index_file_name_is_never_followed(
    two_commits: Path, tmp_path: Path, plant: str
) -> None:
    generation = latest(two_commits).generation
    victim = tmp_path / "victim"
    names = {
        "table of contents": commits.toc_name(INDEX_NAME, generation),
        "segment": new_segment(two_commits)[0],
        "checksums": commits.manifest_name(INDEX_NAME, generation),
        "next table of contents": commits.toc_name(INDEX_NAME, generation + 1),
        "next checksums": commits.manifest_name(INDEX_NAME, generation + 1),
    }
    link = two_commits / names[plant]
    if link.exists():  # the victim is a copy: following the link would find what it expects
        shutil.move(link, victim)
    else:
        victim.write_bytes(b"not the index's")
    link.symlink_to(victim)
    before = victim.read_bytes()
    for args in (["query", "АСЕАН"], ["index", str(SEEDS / RU_ASEAN)], ["check"]):
        out = run(*args, "--index", str(two_commits))
        assert out.returncode in (1, 2), (args, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr
    assert victim.read_bytes() == before and not victim.is_symlink()


# -- errors as messages --------------------------------------------------------------------


def as_a_user(*args: str) -> subprocess.CompletedProcess:
    """The CLI run with a user's permissions: root, as here and in CI, would write through
    any mode bits, so it runs without the capabilities that let it (util-linux setpriv)."""
    command = searchlib_command(*args)
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv (util-linux) is needed to drop root's file capabilities")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_permission_denied_is_one_line_and_the_index_stays(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    assert run("index", str(SEEDS), "--index", str(path)).returncode == 0
    before = sorted(os.listdir(path))
    path.chmod(0o555)
    (path / f"{INDEX_NAME}_WRITELOCK").chmod(0o444)
    try:
        added = as_a_user("index", str(SEEDS / RU_ASEAN), "--index", str(path))
        assert added.returncode == 2 and "Traceback" not in added.stderr
        assert str(path) in added.stderr and "Permission denied" in added.stderr
        assert len(added.stderr.strip().splitlines()) == 1
        queried = as_a_user("query", "АСЕАН", "--index", str(path))
        assert queried.returncode == 0 and RU_ASEAN in queried.stdout  # reading needs no writing
        segment = path / next(n for n in before if n.endswith(".seg"))
        segment.chmod(0o000)
        unreadable = as_a_user("query", "АСЕАН", "--index", str(path))
        assert unreadable.returncode == 2 and "Permission denied" in unreadable.stderr
        assert str(segment) in unreadable.stderr and "Traceback" not in unreadable.stderr
        segment.chmod(0o644)
    finally:
        path.chmod(0o755)
    assert sorted(os.listdir(path)) == before
    assert run("check", "--index", str(path)).returncode == 0


def test_a_read_only_mount_is_one_line_and_the_index_stays(tmpfs) -> None:
    path = tmpfs("8m") / "ix"
    assert run("index", str(SEEDS), "--index", str(path)).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(path.parent)], check=True)
    added = run("index", str(SEEDS / RU_ASEAN), "--index", str(path))
    assert added.returncode == 2 and "Read-only file system" in added.stderr
    assert "Traceback" not in added.stderr and str(path) in added.stderr
    queried = run("query", "АСЕАН", "--index", str(path))
    assert queried.returncode == 0 and RU_ASEAN in queried.stdout
    assert run("check", "--index", str(path)).returncode == 0


def test_an_index_from_before_checksums_is_read_through_and_sealed_at_its_next_commit(tmp_path: Path) -> None:
    fixture = sorted((Path(__file__).parent / "fixtures").glob("index-0.1*"))[-1]  # before checksums
    path = tmp_path / "old"
    shutil.copytree(fixture, path)
    report = checking.check(path)
    assert report.healthy and any("no checksums" in note for note in report.notes)
    with searchlib.Index.open(path) as index:
        index.add([searchlib.Document(id="n", title="t", body="a new note", lang="en")])
    report = checking.check(path)
    assert report.healthy and not any("no checksums" in note for note in report.notes)
    assert commits.read_manifest(str(path), INDEX_NAME, report.generation) is not None


def test_too_many_open_files_is_one_line_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """Each descriptor limit fails at another step of a commit (starting the writer,
    writing a segment, assembling it); whichever, nothing half-written stays."""
    path = tmp_path / "ix"
    searchlib.Index.create(path).close()
    lock = f"{INDEX_NAME}_WRITELOCK"  # the lock file stays, as after any commit
    before = sorted({*os.listdir(path), lock})
    code = (
        "import resource, sys, searchlib.cli; "
        "resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]),) * 2); "
        "sys.exit(searchlib.cli.main(sys.argv[2:]))"
    )
    failed = 0
    for limit in (8, 10, 12):
        out = subprocess.run(
            [sys.executable, "-c", code, str(limit), "index", str(SEEDS), "--index", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if out.returncode == 0:
            break
        failed += 1
        assert out.returncode == 2 and "Too many open files" in out.stderr, (limit, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and str(path) in out.stderr
        assert sorted({*os.listdir(path), lock}) == before, limit
    assert failed >= 2
    assert checking.check(path).healthy


def test_what_a_process_keeps_of_commits_is_bounded_however_many_it_sees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that commits all day kept every commit's manifest and file sums: the files
    expected are the two latest commits' (as cleaning keeps), the manifests and verified
    files read in this process are emptied when full. Damage is still found after."""
    monkeypatch.setattr(commits, "MAX_MANIFESTS", 4)
    index = searchlib.Index.create(tmp_path / "index")
    for number in range(12):
        index.add([searchlib.Document(id=f"d{number}", title="t", body=f"ASEAN summit {number}", lang="en")])
        assert index.search("ASEAN", highlight=False).total == number + 1
    seals = index._whoosh.storage.seals
    latest = index._snapshot().searcher.reader().generation()
    two = commits.files_of(str(index.path), os.listdir(index.path), INDEX_NAME, latest)
    two |= commits.files_of(str(index.path), os.listdir(index.path), INDEX_NAME, latest - 1)
    assert set(seals.expected) <= two  # not the ten commits' before
    assert len(commits._MANIFESTS) <= 4
    monkeypatch.setattr(commits, "MAX_VERIFIED", 2)
    copied = shutil.copytree(tmp_path / "index", tmp_path / "copy")  # new inodes: each file verified
    assert searchlib.Index.open(copied).search("ASEAN", highlight=False).total == 12
    assert 0 < len(commits._VERIFIED) <= 2
    newest = max((tmp_path / "index").glob("*.seg"), key=lambda path: path.stat().st_mtime_ns)
    with open(newest, "r+b") as file:  # a byte flipped in the latest segment: still found
        file.seek(100)
        byte = file.read(1)
        file.seek(100)
        file.write(bytes([byte[0] ^ 0xFF]))
    commits.forget_verified()
    with pytest.raises(searchlib.IndexCorruptError):
        reopened = searchlib.Index.open(tmp_path / "index")
        reopened.search("ASEAN", highlight=False)
