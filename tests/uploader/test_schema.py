"""Schema creation: idempotent, safe when several processes do it at once, widening old columns."""

from __future__ import annotations

import multiprocessing

import pytest
import sqlalchemy as sa

from rightsizer.uploader.database import Database
from rightsizer.uploader.filenames import MAX_CONTENT_TYPE_CHARS
from rightsizer.uploader.schema import TABLES, empty_tables, table_counts, uploaded_files


def _create(url: str) -> str:
    db = Database(url)
    try:
        db.create_schema()
    except Exception as exc:  # noqa: BLE001  (reported to the parent, which fails the test)
        return f"{type(exc).__name__}: {exc}"
    finally:
        db.dispose()
    return "ok"


def test_creation_is_idempotent(db_url: str) -> None:
    for _ in range(3):
        assert _create(db_url) == "ok"
    db = Database(db_url)
    try:
        names = db.run_core(lambda conn: set(sa.inspect(conn).get_table_names()))
        indexes = db.run_core(lambda conn: sa.inspect(conn).get_indexes("session_data"))
    finally:
        db.dispose()
    assert {t.name for t in TABLES} <= names
    assert [i["column_names"] for i in indexes] == [["expires_at"]]


def test_several_processes_creating_at_once_all_succeed(db_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(6) as pool:
        results = pool.map(_create, [db_url] * 6)
    assert results == ["ok"] * 6


def test_counts_and_emptying(db_url: str) -> None:
    db = Database(db_url)
    try:
        db.create_schema()
        assert db.run_core(table_counts) == {"uploaded_files": 0, "session_data": 0}
        insert = TABLES[1].insert().values(id="a" * 32, data="{}", expires_at=1)
        db.run_core(lambda conn: conn.execute(insert))
        assert db.run_core(table_counts) == {"uploaded_files": 0, "session_data": 1}
        assert db.run_core(empty_tables) == {"uploaded_files": 0, "session_data": 1}
        assert db.run_core(table_counts)["session_data"] == 0
        db.run_core(TABLES[0].drop)
        assert db.run_core(table_counts) == {"uploaded_files": 0, "session_data": 0}
    finally:
        db.dispose()


@pytest.mark.mariadb
def test_a_narrower_content_type_column_is_widened(mariadb_url: str) -> None:
    # A table made when the column was VARCHAR(100): creating the schema widens it in place.
    old = sa.MetaData()
    columns = [sa.Column(c.name, sa.String(100) if c.name == "content_type" else c.type)
               for c in uploaded_files.columns]  # fmt: skip
    narrow = sa.Table(uploaded_files.name, old, *columns, mysql_engine="InnoDB")
    engine = sa.create_engine(mariadb_url)
    try:
        old.create_all(engine)
        assert _content_type_width(engine) == 100
        assert _create(mariadb_url) == "ok"
        assert _content_type_width(engine) == MAX_CONTENT_TYPE_CHARS
        assert narrow.name == uploaded_files.name
    finally:
        engine.dispose()


def _content_type_width(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        [column] = [
            c
            for c in sa.inspect(conn).get_columns(uploaded_files.name)
            if c["name"] == "content_type"
        ]
    kind = column["type"]
    assert isinstance(kind, sa.String) and kind.length is not None
    return kind.length
