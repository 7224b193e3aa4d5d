"""Repair: stale partials removed and orphans quarantined, never a file a live server holds."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rightsizer.config import Settings
from rightsizer.errors import RefusedError
from rightsizer.uploader.files import DataDir, new_stored_name
from rightsizer.uploader.repair import MAX_CRASH_ORPHANS, SETTLE_AFTER_S, repair, sweep_partials
from rightsizer.uploader.verify import verify
from tests.uploader.helpers import (
    Live,
    eventually,
    file_body,
    post_raw,
    serve_in_thread,
    stored_files,
    temp_files,
)

STARTUP_S = 60


def partial_name() -> str:
    return f".incoming-{secrets.token_hex(16)}.part"


def age(path: Path, seconds: float = 2 * SETTLE_AFTER_S) -> None:
    """Make the file look last written `seconds` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


@contextlib.contextmanager
def held(path: Path) -> Iterator[None]:
    """Hold the file's flock, as a live server does while the upload is in flight."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@pytest.fixture
def store(make_settings: Any, db_url: str) -> Settings:
    """Settings whose store has one upload with its row."""
    settings: Settings = make_settings(db_url)
    with serve_in_thread(settings) as live:
        assert post_raw(live, file_body(b"kept")).status == 303
    return settings


def test_verify_reports_stale_partials_and_repair_removes_only_those_free(store: Settings) -> None:
    data = store.data_dir
    fresh, stale, busy = (data / partial_name() for _ in range(3))
    for path in (fresh, stale, busy):
        path.write_bytes(b"half an upload")
    age(stale)
    age(busy)
    report = verify(store)
    assert report.stale_partials == tuple(sorted((stale.name, busy.name)))
    assert not report.consistent
    assert report.as_dict()["stale_partials"] == sorted((stale.name, busy.name))
    with held(busy):
        result = repair(store)
    assert result.removed_partials == (stale.name,)
    assert result.left == (busy.name,)
    assert sorted(temp_files(data)) == sorted((fresh.name, busy.name))


def test_repair_quarantines_old_orphans_and_leaves_recent_or_held_ones(store: Settings) -> None:
    data = store.data_dir
    [kept] = stored_files(data)
    old, recent, busy = (data / new_stored_name() for _ in range(3))
    for path in (old, recent, busy):
        path.write_bytes(b"no row names me")
    age(old)
    age(busy)
    age(data / kept)  # old, but it has its row
    with held(busy):
        result = repair(store)
    assert result.quarantined == (old.name,)
    assert sorted(result.left) == sorted((recent.name, busy.name))
    assert not old.exists()
    assert (data / old.name.replace(".upload", ".orphan")).read_bytes() == b"no row names me"
    assert (data / kept).exists()
    report = verify(store)
    assert report.quarantined_files == (old.name.replace(".upload", ".orphan"),)
    assert sorted(report.orphan_files) == sorted((recent.name, busy.name))


def test_repair_refuses_when_the_table_is_missing(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db' / 'u.db'}")
    with serve_in_thread(settings) as live:
        assert post_raw(live, file_body(b"x")).status == 303
    other = make_settings(f"sqlite:///{tmp_path / 'elsewhere.db'}")  # a wrong --db
    for name in stored_files(settings.data_dir):
        age(settings.data_dir / name)
    with pytest.raises(RefusedError, match="no uploaded_files table"):
        repair(other)
    assert len(stored_files(settings.data_dir)) == 1


def test_repair_refuses_when_most_files_lack_a_row(store: Settings) -> None:
    for _ in range(MAX_CRASH_ORPHANS + 1):
        path = store.data_dir / new_stored_name()
        path.write_bytes(b"?")
        age(path)
    with pytest.raises(RefusedError, match="more than crashes leave"):
        repair(store)
    assert len(stored_files(store.data_dir)) == MAX_CRASH_ORPHANS + 2


def test_a_server_start_sweeps_stale_partials(store: Settings) -> None:
    stale = store.data_dir / partial_name()
    stale.write_bytes(b"left by a crash")
    age(stale)
    with serve_in_thread(store):
        assert not stale.exists()
    assert sweep_partials(DataDir(store.data_dir)) == ([], [])


def test_a_crash_between_rename_and_insert(
    make_settings: Any, sqlite_url: str, tmp_path: Path
) -> None:
    # A real server, its insert held up by a lock, killed by SIGKILL at that moment.
    settings: Settings = make_settings(sqlite_url)
    data = settings.data_dir
    with serving(settings, tmp_path) as (proc, live):
        lock = sqlite3.connect(str(sa.make_url(sqlite_url).database), isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        upload = threading.Thread(target=_post_quietly, args=(live,), daemon=True)
        upload.start()
        assert eventually(lambda: stored_files(data) != [])
        [orphan] = stored_files(data)
        age(data / orphan)
        # The server is alive and holds the file: repair must leave it alone.
        assert repair(settings).left == (orphan,)
        proc.send_signal(signal.SIGKILL)
        proc.wait(STARTUP_S)
        lock.execute("ROLLBACK")
        lock.close()
        upload.join(STARTUP_S)
    report = verify(settings)
    assert report.orphan_files == (orphan,) and not report.consistent
    assert repair(settings).quarantined == (orphan,)
    assert verify(settings).consistent


@contextlib.contextmanager
def serving(settings: Settings, cwd: Path) -> Iterator[tuple[subprocess.Popen[str], Live]]:
    """`rightsizer serve --port 0` as its own process, on these settings."""
    env = {
        **os.environ,
        "RIGHTSIZER_DB": settings.db,
        "RIGHTSIZER_DATA_DIR": str(settings.data_dir),
    }
    command = [sys.executable, "-m", "rightsizer", "serve", "--port", "0", "--host", "127.0.0.1"]
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert "listening on http://" in line, line
            url = line.split("listening on ", 1)[1].split()[0]
            host, port = url.removeprefix("http://").rsplit(":", 1)
            yield proc, Live(url, host, int(port), settings)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(STARTUP_S)


def _post_quietly(live: Live) -> None:
    with contextlib.suppress(OSError):  # the server is killed while the upload waits
        post_raw(live, file_body(b"lost"))
