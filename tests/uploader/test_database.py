"""The database going away and coming back, on SQLite and MariaDB; compiled hot-path queries."""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite

from rightsizer.uploader.database import Database
from rightsizer.uploader.queries import Compiled
from rightsizer.uploader.schema import uploaded_files
from rightsizer.uploader.verify import verify
from tests.uploader.helpers import (
    Live,
    TcpProxy,
    file_body,
    post_raw,
    serve_in_thread,
    stored_files,
    temp_files,
)


def eventually(check: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def assert_down(live: Live) -> None:
    before = stored_files(live.settings.data_dir)
    with httpx.Client(base_url=live.url, timeout=30) as client:
        assert client.get("/healthz").status_code == 503
        page = client.get("/index.php")
        assert page.status_code == 503
        assert "try again shortly" in page.text
        assert page.headers["retry-after"] == "5"
    saved = post_raw(live, file_body(b"during the outage"))
    assert saved.status == 503
    # The file was streamed and renamed before the insert failed: it must be gone again.
    assert stored_files(live.settings.data_dir) == before
    assert temp_files(live.settings.data_dir) == []


def assert_up(live: Live) -> None:
    assert eventually(lambda: httpx.get(live.url + "/healthz").status_code == 200)
    with httpx.Client(base_url=live.url) as client:
        assert client.get("/index.php").status_code == 200
    assert post_raw(live, file_body(b"after the outage")).status == 303


def test_sqlite_directory_gone_then_back(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db' / 'uploader.db'}")
    with serve_in_thread(settings) as live:
        assert_up(live)
        (tmp_path / "db").rename(tmp_path / "db-unmounted")
        assert_down(live)
        (tmp_path / "db-unmounted").rename(tmp_path / "db")
        assert_up(live)
    report = verify(settings)
    assert report.consistent and report.rows == 2


def test_sqlite_file_replaced_is_picked_up(make_settings: Any, tmp_path: Path) -> None:
    path = tmp_path / "db" / "uploader.db"
    settings = make_settings(f"sqlite:///{path}")
    with serve_in_thread(settings) as live:
        assert_up(live)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        for name in stored_files(settings.data_dir):
            (settings.data_dir / name).unlink()
        assert_down(live)
        fresh = Database(settings.db)  # someone restores an empty database
        fresh.create_schema()
        fresh.dispose()
        assert_up(live)
    assert verify(settings).rows == 1


@pytest.mark.mariadb
def test_mariadb_outage_then_recovery(make_settings: Any, mariadb_url: str) -> None:
    server = sa.make_url(mariadb_url)
    proxy = TcpProxy((server.host or "127.0.0.1", server.port or 3306))
    proxy.start()
    try:
        url = server.set(port=proxy.port).render_as_string(hide_password=False)
        settings = make_settings(url)
        with serve_in_thread(settings) as live:
            assert_up(live)
            proxy.stop()
            assert_down(live)
            proxy.start()  # same port: the database is back
            assert_up(live)
        report = verify(settings)
        assert report.consistent and report.rows == 2
    finally:
        proxy.stop()


def test_queries_compile_for_each_dialect_with_bind_processing() -> None:
    insert = uploaded_files.insert().values(
        original_name=sa.bindparam("n"), stored_name="x", size=1, sha256="s",
        content_type="t", created_at=sa.bindparam("at"),
    )  # fmt: skip
    lite = Compiled.of(insert, sqlite.dialect())
    assert lite.order is not None and "?" in lite.sql
    when = datetime.datetime(2026, 1, 2, 3, 4, 5)
    params = lite.parameters({"n": "a.jpg", "at": when})
    assert isinstance(params, list)
    assert "a.jpg" in params and "2026-01-02 03:04:05.000000" in params
    my = Compiled.of(insert, mysql.dialect(paramstyle="pyformat"))
    assert my.order is None and "%(n)s" in my.sql


def test_queries_refuse_columns_that_need_result_processing() -> None:
    with pytest.raises(TypeError, match="result processing"):
        Compiled.of(sa.select(uploaded_files.c.created_at), sqlite.dialect())


def test_database_reports_a_missing_sqlite_file_as_unavailable(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'nothing-here.db'}")
    try:
        assert not db.ping()
        assert not (tmp_path / "nothing-here.db").exists()  # and did not create it
    finally:
        db.dispose()


@contextlib.contextmanager
def database_stalled(url: str) -> Iterator[None]:
    """Another connection holds the write lock an upload's insert needs, until the block ends.

    SQLite: BEGIN EXCLUSIVE on the file. MariaDB: LOCK TABLES uploaded_files WRITE.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(parsed.database), isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("LOCK TABLES uploaded_files WRITE")
            try:
                yield
            finally:
                conn.exec_driver_sql("UNLOCK TABLES")
    finally:
        engine.dispose()


def test_a_stalled_database_does_not_freeze_healthz(live: Live) -> None:
    results: list[int] = []
    with database_stalled(live.settings.db):
        upload = threading.Thread(
            target=lambda: results.append(post_raw(live, file_body(b"waits for the lock")).status)
        )
        upload.start()
        # Renamed into place: the upload now waits for its insert, behind the lock.
        assert eventually(lambda: stored_files(live.settings.data_dir) != [])
        with httpx.Client(base_url=live.url, timeout=60) as client:
            health = client.get("/healthz")
            # The limit check and the error page need no database either.
            refused = client.post("/index.php?action=save", content=b"x")
        assert upload.is_alive() and results == [], "answered only after the stall ended"
        assert health.status_code == 200
        assert refused.status_code == 415
    upload.join(60)
    assert results == [303]
    assert verify(live.settings).consistent
