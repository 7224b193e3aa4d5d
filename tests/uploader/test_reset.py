"""Reset: back to the initial state, only ever deleting what is rightsizer's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rightsizer.config import Settings
from rightsizer.errors import RefusedError
from rightsizer.uploader import reset as resetting
from rightsizer.uploader.files import MARKER, DirState, new_stored_name
from rightsizer.uploader.verify import verify
from tests.uploader.helpers import file_body, post_raw, serve_in_thread, stored_files


def filled(settings: Settings, uploads: int = 3) -> None:
    """Serve the settings for a moment and upload a few files through HTTP."""
    with serve_in_thread(settings) as live:
        for i in range(uploads):
            assert post_raw(live, file_body(b"x" * (100 + i), f"f{i}.jpg".encode())).status == 303


def snapshot(root: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = f"-> {path.readlink()}"
        elif path.is_file():
            out[rel] = path.read_bytes()
        else:
            out[rel] = "dir"
    return out


def test_reset_empties_tables_and_stored_files(make_settings: Any, db_url: str) -> None:
    settings = make_settings(db_url)
    filled(settings)
    plan = resetting.plan_reset(settings)
    assert plan.dir_state is DirState.OURS
    assert len(plan.files) == 3 and plan.file_bytes == 100 + 101 + 102
    assert plan.rows["uploaded_files"] == 3 and plan.rows["session_data"] == 3

    result = resetting.reset(settings)

    assert len(result.deleted_files) == 3
    assert result.deleted_rows == {"uploaded_files": 3, "session_data": 3}
    assert [p.name for p in settings.data_dir.iterdir()] == [MARKER]
    after = verify(settings)
    assert (after.rows, after.files, after.consistent) == (0, 0, True)
    assert resetting.plan_reset(settings).is_clean


def test_reset_is_idempotent(make_settings: Any, sqlite_url: str) -> None:
    settings = make_settings(sqlite_url)
    filled(settings, 1)
    resetting.reset(settings)
    again = resetting.reset(settings)
    assert again.deleted_files == () and not any(again.deleted_rows.values())


def test_dry_run_changes_nothing(make_settings: Any, sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url)
    filled(settings)
    before = snapshot(tmp_path)
    result = resetting.reset(settings, dry_run=True)
    assert result.dry_run and len(result.plan.files) == 3
    assert result.deleted_files == ()
    assert snapshot(tmp_path) == before
    assert verify(settings).rows == 3


def test_dry_run_on_a_fresh_setup_creates_nothing(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db' / 'fresh.db'}")
    result = resetting.reset(settings, dry_run=True)
    assert result.plan.dir_state is DirState.MISSING
    assert not (tmp_path / "db").exists() and not settings.data_dir.exists()


def test_reset_refuses_a_directory_it_never_initialised(
    make_settings: Any, sqlite_url: str
) -> None:
    settings = make_settings(sqlite_url)
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "family-photos.jpg").write_bytes(b"irreplaceable")
    (settings.data_dir / new_stored_name()).write_bytes(b"looks like ours, is not")
    before = snapshot(settings.data_dir)
    for dry_run in (True, False):
        with pytest.raises(RefusedError) as refused:
            resetting.reset(settings, dry_run=dry_run)
        message = str(refused.value)
        assert str(settings.data_dir) in message and "--data-dir" in message
        assert refused.value.exit_code == 2
    assert snapshot(settings.data_dir) == before


def test_reset_initialises_a_missing_or_empty_directory(
    make_settings: Any, sqlite_url: str
) -> None:
    settings = make_settings(sqlite_url)
    assert resetting.plan_reset(settings).dir_state is DirState.MISSING
    resetting.reset(settings)
    assert [p.name for p in settings.data_dir.iterdir()] == [MARKER]


def test_reset_leaves_what_it_does_not_recognise(
    make_settings: Any, sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(sqlite_url)
    filled(settings, 2)
    data = settings.data_dir
    uploaded = set(stored_files(data))
    outside = tmp_path / "outside.upload"
    outside.write_text("outside the data dir")
    (data / "README.txt").write_text("someone's notes")
    (data / "sub").mkdir()
    (data / "sub" / new_stored_name()).write_text("ours by name, but in a subdirectory")
    (data / new_stored_name()).symlink_to(outside)  # ours by name, but a symlink
    (data / new_stored_name()).mkdir()  # ours by name, but a directory
    (data / "x.upload").write_text("almost our pattern")
    before = snapshot(tmp_path)

    result = resetting.reset(settings)

    assert set(result.deleted_files) == uploaded
    removed = set(before) - set(snapshot(tmp_path))
    assert removed == {f"data/{name}" for name in uploaded}
    assert outside.read_text() == "outside the data dir"
    assert "README.txt" in result.plan.left_alone  # it said what it would not touch


def test_mount_points_inside_the_data_dir_are_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    mounted = new_stored_name()
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        f"90 27 0:50 / {data}/{mounted} rw - ext4 /dev/vdb rw\n"
        f"91 27 0:51 / {data}/with\\040space rw - ext4 /dev/vdc rw\n"
        f"92 27 0:52 / {data}/deeper/{mounted} rw - ext4 /dev/vdd rw\n"
    )
    names = resetting.mounted_names(data, mountinfo)
    assert names == frozenset({mounted, "with space"})


def test_reset_never_deletes_a_mount_point(
    make_settings: Any, sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(sqlite_url)
    filled(settings, 2)
    pretend_mounted = stored_files(settings.data_dir)[0]
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"90 27 0:50 / {settings.data_dir}/{pretend_mounted} rw - nfs x rw\n")
    result = resetting.reset(settings, mountinfo=mountinfo)
    assert len(result.deleted_files) == 1
    assert stored_files(settings.data_dir) == [pretend_mounted]
