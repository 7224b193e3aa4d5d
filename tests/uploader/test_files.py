"""The data directory: the marker, foreign directories, and what may be deleted."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from rightsizer.errors import RefusedError
from rightsizer.uploader.files import MARKER, DataDir, DirState, is_stored_name, new_stored_name


def test_a_missing_directory_is_created_and_marked(tmp_path: Path) -> None:
    datadir = DataDir(tmp_path / "a" / "b")
    assert datadir.state() is DirState.MISSING
    datadir.initialise()
    assert datadir.state() is DirState.OURS
    assert (tmp_path / "a" / "b" / MARKER).is_file()
    assert datadir.is_healthy()


def test_an_empty_directory_is_marked(tmp_path: Path) -> None:
    datadir = DataDir(tmp_path)
    assert datadir.state() is DirState.EMPTY
    datadir.initialise()
    assert datadir.state() is DirState.OURS


def test_a_directory_with_foreign_files_is_refused_untouched(tmp_path: Path) -> None:
    (tmp_path / "thesis.pdf").write_text("years of work")
    datadir = DataDir(tmp_path)
    assert datadir.state() is DirState.FOREIGN
    with pytest.raises(RefusedError, match=str(tmp_path)):
        datadir.initialise()
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.pdf"]


def test_a_symlinked_marker_does_not_count(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("x")
    (tmp_path / MARKER).symlink_to(tmp_path / "elsewhere")
    assert DataDir(tmp_path).state() is DirState.FOREIGN


def test_a_file_in_place_of_the_directory_is_foreign(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a dir")
    assert DataDir(tmp_path / "data").state() is DirState.FOREIGN


def _initialise(root: str) -> str:
    try:
        DataDir(Path(root)).initialise()
    except RefusedError as exc:
        return f"refused: {exc}"
    return "ok"


def test_several_processes_initialising_at_once_all_succeed(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    context = multiprocessing.get_context("spawn")
    with context.Pool(6) as pool:
        results = pool.map(_initialise, [str(root)] * 6)
    assert results == ["ok"] * 6
    assert [p.name for p in root.iterdir()] == [MARKER]


def test_temp_files_are_created_exclusively_and_committed_under_server_names(
    tmp_path: Path,
) -> None:
    datadir = DataDir(tmp_path)
    datadir.initialise()
    path, fd = datadir.open_temp()
    os.write(fd, b"data")
    os.close(fd)
    [entry] = [e for e in datadir.entries() if e.is_temp]
    assert entry.size == 4
    name = datadir.commit(path)
    assert is_stored_name(name)
    assert datadir.path_of(name).read_bytes() == b"data"
    assert not Path(path).exists()


@pytest.mark.parametrize("name", ["../x.upload", "a" * 32 + ".upload/..", ".marker", "/etc/passwd"])
def test_path_of_refuses_names_it_would_not_make(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="not a stored file name"):
        DataDir(tmp_path).path_of(name)


def test_remove_deletes_only_recognised_regular_files(tmp_path: Path) -> None:
    datadir = DataDir(tmp_path / "data")
    datadir.initialise()
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    ours = new_stored_name()
    (datadir.root / ours).write_text("ours")
    link = new_stored_name()
    (datadir.root / link).symlink_to(outside)  # our pattern, but a symlink
    folder = new_stored_name()
    (datadir.root / folder).mkdir()  # our pattern, but a directory
    (datadir.root / "notes.txt").write_text("not ours")
    kept_mount = new_stored_name()
    (datadir.root / kept_mount).write_text("pretend mount point")

    names = [ours, link, folder, "notes.txt", "../precious.txt", MARKER, kept_mount]
    deleted = datadir.remove(names, keep=frozenset({kept_mount}))

    assert deleted == [ours]
    assert outside.read_text() == "keep"
    assert (datadir.root / link).is_symlink()
    assert (datadir.root / folder).is_dir()
    assert (datadir.root / "notes.txt").exists()
    assert (datadir.root / MARKER).exists()
    assert (datadir.root / kept_mount).exists()


def test_entries_skip_symlinks_and_unknown_names(tmp_path: Path) -> None:
    datadir = DataDir(tmp_path)
    datadir.initialise()
    real = new_stored_name()
    (tmp_path / real).write_bytes(b"12345")
    (tmp_path / new_stored_name()).symlink_to(tmp_path / real)
    (tmp_path / "other.upload").write_text("x")
    assert [(e.name, e.size) for e in datadir.entries()] == [(real, 5)]
    assert datadir.others() == sorted(
        p.name for p in tmp_path.iterdir() if p.name not in (real, MARKER)
    )
