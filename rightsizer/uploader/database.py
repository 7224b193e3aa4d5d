"""The uploader's database: one pooled engine per process, one transaction per request.

A request hands `Database.run` one function that does all its queries inside one transaction, on
a connection the process keeps. It runs right on the event loop: handing it to a worker thread
cost more CPU than the queries themselves (measured: ~0.4 ms per request on this machine's
Python), and a CPU-capped task has no CPU to spare. PHP, the service this one rebuilds, blocks on
its database the same way. Any failure to reach the database becomes `UnavailableError` (the app
answers 503) and drops the connection; the next request connects afresh, so the service
recovers by itself once the database is back.

SQLite: WAL and a busy timeout let several processes write one file. Pooled connections would
keep using a file that was renamed or deleted, so each unit of work first checks that the path
still names the same file (one stat call): gone means unavailable, replaced means reconnect.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from rightsizer.errors import UnavailableError
from rightsizer.uploader.queries import Compiled, Query, Tx
from rightsizer.uploader.schema import create_schema

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 30.0
MYSQL_CONNECT_TIMEOUT_S = 5
MYSQL_IO_TIMEOUT_S = 30
POOL_TIMEOUT_S = 10.0
# Failures that mean "the database is not there (or too busy) right now", not a bug of ours.
_OUTAGES = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, OSError)
_PING = Query(sa.select(sa.literal_column("1")))


def make_engine(url: str, *, pool_size: int = 2) -> sa.Engine:
    """An engine tuned for the uploader: WAL and a busy timeout on SQLite, timeouts on MySQL."""
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = sa.create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=POOL_TIMEOUT_S,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if backend == "mysql":
        connect_args = {
            "connect_timeout": MYSQL_CONNECT_TIMEOUT_S,
            "read_timeout": MYSQL_IO_TIMEOUT_S,
            "write_timeout": MYSQL_IO_TIMEOUT_S,
        }
    return sa.create_engine(
        parsed,
        connect_args=connect_args,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=POOL_TIMEOUT_S,
        pool_recycle=3600,  # MySQL drops idle connections after wait_timeout
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL survives a crash of the process (not of the machine) without an fsync per
        # commit, the same promise PHP's session and upload handling gives.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    return sa.make_url(url).render_as_string(hide_password=True)


class Database:
    """The engine, the schema, and the connection requests share.

    `run(work)` hands `work` a `Tx` (raw cursor, the hot path); `run_core(work)` hands it a
    SQLAlchemy connection (schema, reset, verify). Both are one transaction and turn outages
    into UnavailableError. Not thread-safe: one instance per thread (the app uses it from the
    event loop only).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.label = describe(url)
        self.engine = make_engine(url)
        self._conn: sa.Connection | None = None
        self._compiled: dict[Query, Compiled] = {}
        dbapi = self.engine.dialect.loaded_dbapi
        # The raw cursor raises the driver's own exceptions, not SQLAlchemy's wrappers.
        self._outages: tuple[type[BaseException], ...] = (
            *_OUTAGES,
            dbapi.OperationalError,
            dbapi.InterfaceError,
        )
        parsed = self.engine.url
        name = parsed.database
        is_file = parsed.get_backend_name() == "sqlite" and name and name != ":memory:"
        self.sqlite_path = Path(name) if is_file and name else None
        self._sqlite_name = str(self.sqlite_path)
        self._identity: tuple[int, int] | None = None

    def create_schema(self) -> None:
        """Create missing tables; raises UnavailableError when the database does not answer."""
        try:
            if self.sqlite_path is not None:
                self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            create_schema(self.engine)
            self._identity = self._sqlite_identity()
        except self._outages as exc:
            raise self._unavailable(exc) from None

    def run(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in one transaction on the kept connection's raw cursor (the hot path)."""
        try:
            self._check_sqlite_file()
            raw = self._connection().connection.dbapi_connection
            if raw is None:  # invalidated under us; the next request reconnects
                raise ConnectionError("connection lost")
            cursor = raw.cursor()
            try:
                result = work(Tx(cursor, self.engine.dialect, self._compiled))
                raw.commit()
                return result
            except BaseException:
                with contextlib.suppress(*self._outages):
                    raw.rollback()
                raise
            finally:
                with contextlib.suppress(*self._outages):
                    cursor.close()
        except self._outages as exc:
            self._drop_connection()
            raise self._unavailable(exc) from None

    def run_core(self, work: Callable[[sa.Connection], T]) -> T:
        """Run `work` in one transaction with a SQLAlchemy connection (maintenance paths)."""
        try:
            self._check_sqlite_file()
            conn = self._connection()
            with conn.begin():
                return work(conn)
        except self._outages as exc:
            self._drop_connection()
            raise self._unavailable(exc) from None

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            self.run(lambda tx: tx.first(_PING))
        except UnavailableError:
            return False
        return True

    def dispose(self) -> None:
        self._drop_connection()
        self.engine.dispose()

    def _connection(self) -> sa.Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._drop_connection()
            self._conn = self.engine.connect()
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(*self._outages):
                conn.invalidate()

    def _sqlite_identity(self) -> tuple[int, int] | None:
        if self.sqlite_path is None:
            return None
        info = os.stat(self._sqlite_name)  # noqa: PTH116  (a str path: no pathlib per request)
        return (info.st_dev, info.st_ino)

    def _check_sqlite_file(self) -> None:
        if self.sqlite_path is None:
            return
        try:
            identity = self._sqlite_identity()
        except OSError as exc:
            raise UnavailableError(
                f"database {self.label}: file unreachable ({exc.strerror}); "
                "check that its directory is mounted"
            ) from None
        if self._identity is None:
            self._identity = identity
        elif identity != self._identity:
            # The file was replaced: the kept connection points at the old one.
            self.dispose()
            create_schema(self.engine)
            self._identity = identity

    def _unavailable(self, exc: BaseException) -> UnavailableError:
        cause = getattr(exc, "orig", None) or exc
        detail = " ".join(str(cause).split())[:200]
        return UnavailableError(f"database {self.label} does not answer: {detail}")
