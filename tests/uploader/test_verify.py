"""Verify: rows against files, on SQLite and MariaDB."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rightsizer.config import Settings
from rightsizer.uploader.database import Database
from rightsizer.uploader.files import new_stored_name
from rightsizer.uploader.repair import SETTLE_AFTER_S
from rightsizer.uploader.schema import uploaded_files
from rightsizer.uploader.verify import verify
from tests.uploader.helpers import file_body, post_raw, serve_in_thread, stored_files

KEYS = {
    "rows",
    "files",
    "missing_files",
    "orphan_files",
    "mismatched",
    "stale_partials",
    "quarantined_files",
    "consistent",
}


def filled(settings: Settings, contents: list[bytes]) -> list[str]:
    """Upload the contents in order; returns their stored names in the same order."""
    names: list[str] = []
    with serve_in_thread(settings) as live:
        for content in contents:
            assert post_raw(live, file_body(content)).status == 303
            names += [n for n in stored_files(settings.data_dir) if n not in names]
    return names


def test_a_consistent_store(make_settings: Any, db_url: str) -> None:
    settings = make_settings(db_url)
    filled(settings, [b"one", b"two"])
    report = verify(settings)
    assert report.as_dict() == {
        "rows": 2,
        "files": 2,
        "missing_files": [],
        "orphan_files": [],
        "mismatched": [],
        "stale_partials": [],
        "quarantined_files": [],
        "consistent": True,
    }


def test_deleted_orphan_and_changed_files_are_all_caught(make_settings: Any, db_url: str) -> None:
    settings = make_settings(db_url)
    deleted, resized, rewritten, intact = filled(settings, [b"aaaa", b"bbbb", b"cccc", b"dddd"])
    data = settings.data_dir
    (data / deleted).unlink()
    (data / resized).write_bytes(b"bbbbbbbb")
    (data / rewritten).write_bytes(b"CCCC")  # same size, other bytes
    orphan = new_stored_name()
    (data / orphan).write_bytes(b"nobody knows me")
    (data / f".incoming-{'0' * 32}.part").write_bytes(b"still arriving")  # ignored

    report = verify(settings)
    as_dict = report.as_dict()

    assert set(as_dict) == KEYS
    assert not report.consistent and as_dict["consistent"] is False
    assert (report.rows, report.files) == (4, 4)
    assert report.missing_files == (deleted,)
    assert report.orphan_files == (orphan,)
    by_name = {m["stored_name"]: m for m in as_dict["mismatched"]}
    assert set(by_name) == {resized, rewritten}
    assert (by_name[resized]["expected_size"], by_name[resized]["actual_size"]) == (4, 8)
    changed = by_name[rewritten]
    assert changed["expected_size"] == changed["actual_size"] == 4
    assert changed["expected_sha256"] == hashlib.sha256(b"cccc").hexdigest()
    assert changed["actual_sha256"] == hashlib.sha256(b"CCCC").hexdigest()
    assert intact not in by_name


def test_a_row_naming_a_path_is_missing_and_never_opened(
    make_settings: Any, sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(sqlite_url)
    filled(settings, [b"fine"])
    (tmp_path / "secret").write_text("outside")
    db = Database(settings.db)
    insert = uploaded_files.insert().values(
        original_name="x", stored_name="../secret", size=7, sha256="0" * 64,
        content_type="text/plain", created_at=sa.func.current_timestamp(),
    )  # fmt: skip
    db.run_core(lambda conn: conn.execute(insert))
    db.dispose()
    report = verify(settings)
    assert report.missing_files == ("../secret",)
    assert report.mismatched == ()


def test_verify_on_a_fresh_setup_is_consistent_and_creates_nothing(
    make_settings: Any, tmp_path: Path
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db' / 'none.db'}")
    report = verify(settings)
    assert report.consistent and report.rows == report.files == 0
    assert not (tmp_path / "db").exists() and not settings.data_dir.exists()


def test_partials_count_only_once_stale(make_settings: Any, sqlite_url: str) -> None:
    settings = make_settings(sqlite_url)
    filled(settings, [b"one"])
    arriving = settings.data_dir / f".incoming-{'1' * 32}.part"
    arriving.write_bytes(b"still arriving")
    assert verify(settings).consistent
    later = time.time() + SETTLE_AFTER_S + 1
    report = verify(settings, now=later)
    assert report.stale_partials == (arriving.name,)
    assert not report.consistent
