"""The uploader's two tables, and their idempotent creation.

    uploaded_files  id, original_name, stored_name (unique), size, sha256, content_type,
                    session_id, created_at (UTC)
    session_data    id (the cookie), data (JSON), expires_at (epoch seconds, indexed)

Several processes may start together against one database, so creation tolerates losing the
race: "already exists" from a concurrent CREATE is retried and then seen as present.
"""

from __future__ import annotations

import random
import time

import sqlalchemy as sa

from rightsizer.uploader.filenames import MAX_CONTENT_TYPE_CHARS

# SQLite only auto-increments an `INTEGER PRIMARY KEY`; MySQL wants a BIGINT for long runs.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CREATE_ATTEMPTS = 5

metadata = sa.MetaData()

uploaded_files = sa.Table(
    "uploaded_files",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("original_name", sa.String(255), nullable=False),
    sa.Column("stored_name", sa.String(64), nullable=False, unique=True),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content_type", sa.String(MAX_CONTENT_TYPE_CHARS), nullable=False),
    sa.Column("session_id", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

session_data = sa.Table(
    "session_data",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("expires_at", sa.BigInteger(), nullable=False, index=True),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

TABLES = (uploaded_files, session_data)


def create_schema(engine: sa.Engine) -> None:
    """Create the tables and indexes that are missing; safe when other processes do it too."""
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            metadata.create_all(engine, checkfirst=True)
            _widen_content_type(engine)
            return
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            # Another process created a table between our check and our CREATE.
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.05, 0.2))


def _widen_content_type(engine: sa.Engine) -> None:
    """Widen `content_type` of a MySQL table made when the column was narrower (100).

    SQLite does not enforce VARCHAR widths; MySQL would refuse longer types with a DataError.
    """
    if engine.dialect.name != "mysql":
        return
    with engine.begin() as conn:
        for column in sa.inspect(conn).get_columns(uploaded_files.name):
            width = getattr(column["type"], "length", None) or 0
            if column["name"] == "content_type" and width < MAX_CONTENT_TYPE_CHARS:
                conn.execute(
                    sa.text(
                        f"ALTER TABLE {uploaded_files.name} MODIFY content_type "
                        f"VARCHAR({MAX_CONTENT_TYPE_CHARS}) NOT NULL"
                    )
                )


def table_counts(conn: sa.Connection) -> dict[str, int]:
    """Rows per table; a table that does not exist yet counts 0."""
    present = set(sa.inspect(conn).get_table_names())
    counts: dict[str, int] = {}
    for table in TABLES:
        if table.name in present:
            query = sa.select(sa.func.count()).select_from(table)
            counts[table.name] = conn.execute(query).scalar_one()
        else:
            counts[table.name] = 0
    return counts


def empty_tables(conn: sa.Connection) -> dict[str, int]:
    """Delete every row of both tables; returns how many rows each lost."""
    return {table.name: conn.execute(table.delete()).rowcount for table in TABLES}
