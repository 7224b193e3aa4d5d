"""The uploader's routes, wired to the database, the data directory and the sessions.

    app = create_app(settings)      # creates missing tables, marks the data dir, no server yet

Each request does its database work in one transaction (`Database.run`) through
`Uploader.transact`, which never lets it wait on the event loop (database.py says how, and what
it measured): a database that stalls holds only the requests that need it, while bodies still
stream, refusals are still answered and /healthz answers within HEALTH_DB_WAIT_S. The index page
reads the session, lists the newest uploads and writes the session; a save streams the body into
the data directory, renames it into place, then inserts the row and writes the session (and
removes the file again if that fails). Every refusal is a 4xx HTML page; a database or disk that
does not answer is a 503; nothing ever shows a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from rightsizer.config import Settings
from rightsizer.errors import UnavailableError
from rightsizer.uploader import records
from rightsizer.uploader.database import Busy, Database
from rightsizer.uploader.filenames import content_disposition, served_content_type
from rightsizer.uploader.files import DataDir
from rightsizer.uploader.pages import error_page, index_page
from rightsizer.uploader.queries import Tx
from rightsizer.uploader.repair import sweep_partials
from rightsizer.uploader.sessions import COOKIE, Session, SessionStore
from rightsizer.uploader.upload import (
    BodyTimeouts,
    ReceivedFile,
    UploadRejected,
    check_declared_length,
    receive_file,
)
from rightsizer.uploader.workers import Workers

T = TypeVar("T")

MAX_ROW_ID = 2**63 - 1
RETRY_AFTER_S = "5"
UNAVAILABLE = "The service cannot reach its storage right now; please try again shortly."
# Threads (and so database connections) per process doing database work. Every request needs
# the same tables, so more threads would only queue on the database's own locks.
DB_THREADS = 4
# How long /healthz waits for the database to answer before it says it does not: well under a
# load balancer's usual 5 s health-check timeout, well over a query's milliseconds.
HEALTH_DB_WAIT_S = 2.0
# At shutdown, how long to let database work in progress finish.
WORKERS_STOP_S = 5.0


@dataclass(frozen=True)
class Uploader:
    """The request handlers and what they share."""

    db: Database
    datadir: DataDir
    sessions: SessionStore
    max_upload_bytes: int
    workers: Workers
    body_timeouts: BodyTimeouts

    @functools.cached_property
    def probe(self) -> DatabaseProbe:
        return DatabaseProbe(functools.partial(self.transact, self.db.ping))

    async def index(self, request: Request) -> Response:
        if request.method == "POST":
            if request.query_params.get("action") == "save":
                return await self.save(request)
            raise UploadRejected(400, "Unknown action; the upload form posts to ?action=save.")
        cookie = request.cookies.get(COOKIE)

        def work(tx: Tx) -> tuple[Session, str | None, list[records.Listing]]:
            session = self.sessions.load(tx, cookie)
            newest = records.newest(tx)
            data = dict(session.data)
            message = data.pop("message", None)
            self.sessions.save(tx, session, data)
            return session, message, newest

        session, message, newest = await self.transact(functools.partial(self.db.run, work))
        return _with_cookie(HTMLResponse(index_page(message, newest)), session)

    async def save(self, request: Request) -> Response:
        check_declared_length(request.headers, self.max_upload_bytes)
        try:
            received = await receive_file(
                request.headers.get("content-type"),
                request.stream(),
                self.datadir,
                self.max_upload_bytes,
                self.body_timeouts,
            )
        except ClientDisconnect:
            return _page(400, "The upload was interrupted.")
        except OSError as exc:
            raise UnavailableError(f"data directory: {exc}") from None
        try:
            stored_name = self.datadir.commit(received.temp_path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                Path(received.temp_path).unlink(missing_ok=True)
            received.release()
            raise UnavailableError(f"data directory: {exc}") from None
        cookie = request.cookies.get(COOKIE)
        # Row, cleanup and unlock in one call, on the loop or on a worker thread: a request
        # cancelled meanwhile cannot split the row from its file, and the lock (files.py) is held
        # until the row is committed or the file gone.
        record = functools.partial(self._record, received, stored_name, cookie)
        session = await self.transact(record)
        return _with_cookie(RedirectResponse("/index.php", status_code=303), session)

    async def transact(self, call: Callable[..., T]) -> T:
        """`call(wait=...)`, which runs one transaction, without blocking the event loop.

        SQLite: on the loop with `wait=False` first (no lock to wait for is the common case,
        and cheaper than a thread); on Busy, again on a worker thread with `wait=True`.
        MySQL/MariaDB: on a worker thread.
        """
        if self.db.is_sqlite:
            with contextlib.suppress(Busy):
                return call(wait=False)
        return await self.workers.run(call, wait=True)

    def _record(
        self, received: ReceivedFile, stored_name: str, cookie: str | None, *, wait: bool
    ) -> Session:
        """Insert the row and write the session; remove the file when that fails."""
        new = records.NewFile(
            original_name=received.original_name,
            stored_name=stored_name,
            size=received.size,
            sha256=received.sha256,
            content_type=received.content_type,
            session_id=None,
        )
        message = f"Uploaded {received.original_name} ({received.size} bytes)."

        def work(tx: Tx) -> Session:
            session = self.sessions.load(tx, cookie)
            records.add(tx, _owned_by(new, session.id))
            self.sessions.save(tx, session, {**session.data, "message": message})
            return session

        try:
            session = self.db.run(work, wait=wait)
        except Busy:
            raise  # nothing written: `transact` tries again, waiting, off the loop
        except BaseException:
            # No row, no file: the data directory never holds a file the table does not know.
            self.datadir.path_of(stored_name).unlink(missing_ok=True)
            received.release()
            raise
        received.release()
        return session

    async def download(self, request: Request) -> Response:
        file_id: int = request.path_params["file_id"]
        if file_id > MAX_ROW_ID:
            return _page(404, "There is no such file.")
        row = await self.transact(
            functools.partial(self.db.run, lambda tx: records.get(tx, file_id))
        )
        if row is None:
            return _page(404, "There is no such file.")
        try:
            path = self.datadir.path_of(row.stored_name)
        except ValueError:
            return _page(404, "This file is not available.")
        if not path.is_file():
            return _page(404, "This file is missing from storage.")
        return FileResponse(
            path,
            media_type=served_content_type(row.content_type),
            headers={
                "content-disposition": content_disposition(row.original_name),
                "x-content-type-options": "nosniff",
                "content-security-policy": "sandbox",
            },
        )

    async def healthz(self, _request: Request) -> Response:
        """200 when the database answers and the data directory is writable, else 503."""
        if not self.datadir.is_healthy():
            return PlainTextResponse("data directory not writable\n", status_code=503)
        if not await self.probe.answers():
            return PlainTextResponse("database not answering\n", status_code=503)
        return PlainTextResponse("ok\n", headers={"cache-control": "no-store"})


class DatabaseProbe:
    """The health check's ping, on a worker thread: bounded wait, at most one in flight.

    A ping stuck behind a stalled database is not joined by more of them: until it returns,
    every health check answers "not answering" at once.
    """

    def __init__(
        self, ping: Callable[[], Awaitable[bool]], wait_s: float = HEALTH_DB_WAIT_S
    ) -> None:
        self._ping = ping
        self._wait_s = wait_s
        self._pending: asyncio.Future[bool] | None = None

    async def answers(self) -> bool:
        """True when the database answered a trivial query within the wait."""
        if self._pending is not None and not self._pending.done():
            return False
        pending = self._pending = asyncio.ensure_future(self._ping())
        try:
            return await asyncio.wait_for(asyncio.shield(pending), self._wait_s)
        except TimeoutError:
            return False


def _owned_by(new: records.NewFile, session_id: str) -> records.NewFile:
    return records.NewFile(
        new.original_name, new.stored_name, new.size, new.sha256, new.content_type, session_id
    )


def _page(status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(error_page(status, message), status_code=status, headers=headers)


def _with_cookie(response: Response, session: Session) -> Response:
    if session.is_new:
        response.set_cookie(COOKIE, session.id, path="/", httponly=True, samesite="lax")
    return response


async def _rejected(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UploadRejected)
    # The rest of the body may still be on its way: closing is cheaper than draining it.
    return _page(exc.status, exc.message, {"connection": "close"})


async def _unavailable(_request: Request, _exc: Exception) -> Response:
    return _page(503, UNAVAILABLE, {"retry-after": RETRY_AFTER_S})


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "There is no page at this address.", 405: "This method is not allowed here."}
    message = messages.get(exc.status_code, str(exc.detail))
    return _page(exc.status_code, message, dict(exc.headers or {}))


async def _server_error(_request: Request, _exc: Exception) -> Response:
    return _page(500, "Something went wrong on our side; the error was logged.")


def create_app(settings: Settings, *, body_timeouts: BodyTimeouts | None = None) -> Starlette:
    """The uploader as an ASGI app; creates the schema and marks the data dir first.

    Also removes upload files that a crashed server left (repair.py says which are safe to).
    `body_timeouts` bounds how long a request body may take (tests make it small). Raises
    UnavailableError when the database does not answer, RefusedError when the data directory
    belongs to someone else and UsageError when it may not be written.
    """
    db = Database(settings.db, threads=DB_THREADS)
    try:
        db.create_schema()
        datadir = DataDir(settings.data_dir)
        datadir.initialise()
        sweep_partials(datadir)
    except BaseException:
        db.dispose()
        raise
    workers = Workers(DB_THREADS)
    uploader = Uploader(
        db,
        datadir,
        SessionStore(),
        settings.max_upload_bytes,
        workers,
        body_timeouts or BodyTimeouts(),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if workers.close(timeout=WORKERS_STOP_S):
            db.dispose()  # a thread still stuck in a query keeps its connection until exit

    routes = [
        Route("/", uploader.index, methods=["GET"]),
        Route("/index.php", uploader.index, methods=["GET", "POST"]),
        Route("/files/{file_id:int}", uploader.download, methods=["GET"]),
        Route("/healthz", uploader.healthz, methods=["GET"]),
    ]
    handlers = {
        UploadRejected: _rejected,
        UnavailableError: _unavailable,
        HTTPException: _http_error,
        Exception: _server_error,
    }
    return Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
