"""The uploader's database: one pooled engine per process, one transaction per request.

A request hands `Database.run` one function that does all its queries inside one transaction, on
a connection its thread keeps (so the hot path never waits for the pool). A database that stalls
(a lock held elsewhere, a server that stopped answering) must not freeze the event loop, and
with it every other request and /healthz, so the app (`app.Uploader.transact`) runs work:
  - MySQL/MariaDB: on a few worker threads (`workers.Workers`); any query may wait on the network.
  - SQLite: first on the loop with `wait=False` (busy timeout 0: a lock held elsewhere raises
    `Busy` at once, nothing written), and only then on a worker thread, which waits for it.
Measured with bench/uploader.py (ms of CPU per GET+POST flow, a noisy shared 2-core machine):
everything on threads cost SQLite 0.87-0.90 -> 1.2-1.7 (target 1.5), while MariaDB stayed
within noise; with SQLite tried on the loop first, SQLite 0.81-0.99, MariaDB 1.6-1.8 (was
1.8-2.2, target 2.5). A SQLite query that needs no lock is cheaper than a thread hand-off.
Any failure to reach the database becomes `UnavailableError` (the app answers 503) and drops that
connection; the next request connects afresh, so the service recovers by itself.

SQLite: WAL and a busy timeout let several processes write one file. Pooled connections would
keep using a file that was renamed or deleted, so each unit of work first checks that the path
still names the same file (one stat call): gone means unavailable, replaced means reconnect.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from rightsizer.errors import UnavailableError
from rightsizer.uploader.queries import Compiled, Query, Tx
from rightsizer.uploader.schema import create_schema

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 30.0
_SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (low byte of extended codes)
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


class Busy(Exception):
    """SQLite would have had to wait for a lock held elsewhere; nothing was written."""


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    return sa.make_url(url).render_as_string(hide_password=True)


class Database:
    """The engine, the schema, and the connection requests share.

    `run(work)` hands `work` a `Tx` (raw cursor, the hot path); `run_core(work)` hands it a
    SQLAlchemy connection (schema, reset, verify). Both are one transaction and turn outages
    into UnavailableError. Thread-safe: each thread keeps its own connection, and at most
    `threads` threads may use one instance at once (the pool has room for that many).
    """

    def __init__(self, url: str, *, threads: int = 1) -> None:
        self.url = url
        self.label = describe(url)
        self.engine = make_engine(url, pool_size=max(threads, 2))
        self._local = threading.local()
        self._lock = threading.Lock()
        self._kept: set[sa.Connection] = set()
        # Bumped when every thread must reconnect: the database failed, or its file was replaced.
        self._generation = 0
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

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def run(self, work: Callable[[Tx], T], *, wait: bool = True) -> T:
        """Run `work` in one transaction on the kept connection's raw cursor (the hot path).

        `wait=False` (SQLite): raise Busy at once instead of waiting for another writer's lock.
        """
        try:
            self._check_sqlite_file()
            raw = self._connection().connection.dbapi_connection
            if raw is None:  # invalidated under us; the next request reconnects
                raise ConnectionError("connection lost")
            if self.sqlite_path is not None and getattr(self._local, "wait", True) != wait:
                timeout_ms = round(SQLITE_BUSY_TIMEOUT_S * 1000) if wait else 0
                raw.execute(f"PRAGMA busy_timeout = {timeout_ms}")
                self._local.wait = wait
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
            if not wait and _is_busy(exc):
                raise Busy(str(exc)) from None
            self._lost()
            raise self._unavailable(exc) from None

    def run_core(self, work: Callable[[sa.Connection], T]) -> T:
        """Run `work` in one transaction with a SQLAlchemy connection (maintenance paths)."""
        try:
            self._check_sqlite_file()
            conn = self._connection()
            with conn.begin():
                return work(conn)
        except self._outages as exc:
            self._lost()
            raise self._unavailable(exc) from None

    def ping(self, *, wait: bool = True) -> bool:
        """True when the database answers a trivial query (Busy as `run` raises it)."""
        try:
            self.run(lambda tx: tx.first(_PING), wait=wait)
        except UnavailableError:
            return False
        return True

    def dispose(self) -> None:
        """Close every kept connection and the pool; call when no thread uses it any more."""
        with self._lock:
            kept, self._kept = self._kept, set()
        for conn in kept:
            with contextlib.suppress(*self._outages):
                conn.invalidate()
        self._local.__dict__.clear()
        self.engine.dispose()

    def _connection(self) -> sa.Connection:
        conn: sa.Connection | None = getattr(self._local, "conn", None)
        stale = getattr(self._local, "generation", None) != self._generation
        if conn is None or stale or conn.closed or conn.invalidated:
            self._drop_connection()
            conn = self.engine.connect()
            self._local.conn, self._local.generation = conn, self._generation
            self._local.wait = True  # a new connection has the busy timeout of make_engine
            with self._lock:
                self._kept.add(conn)
        return conn

    def _lost(self) -> None:
        """The database failed this thread: drop its connection, and have every thread reconnect.

        Their kept connections most likely broke too, and must not greet the database's return
        with one failed request each.
        """
        self._drop_connection()
        with self._lock:
            self._generation += 1

    def _drop_connection(self) -> None:
        conn: sa.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            with self._lock:
                self._kept.discard(conn)
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
        if identity == self._identity:
            return
        with self._lock:
            if self._identity is None:
                self._identity = identity
            elif identity != self._identity:
                # The file was replaced: every kept connection points at the old one.
                self._generation += 1
                self.engine.dispose()
                create_schema(self.engine)
                self._identity = identity

    def _unavailable(self, exc: BaseException) -> UnavailableError:
        cause = getattr(exc, "orig", None) or exc
        detail = " ".join(str(cause).split())[:200]
        return UnavailableError(f"database {self.label} does not answer: {detail}")


def _is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked": another connection holds the lock this one needs."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _SQLITE_BUSY_CODES
