"""Running the uploader: uvicorn (uvloop, httptools), one startup line, a clean exit on signals.

    serve(settings, host="127.0.0.1", port=0)    # prints "uploader listening on http://..."

The fleet runs this as a CPU-capped task, so the process prints one line and nothing per request
(an access log would cost CPU the task does not have). The socket is bound here, before uvicorn
starts, so port 0 works and the startup line names the real port; an address that cannot be
bound (in use, privileged, not local) is a one-line UsageError, before anything else is touched.
SIGTERM and SIGINT stop it gracefully with exit code 0, also while it is still starting.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, TextIO

import uvicorn
from starlette.types import ASGIApp

from rightsizer.config import Settings
from rightsizer.errors import UsageError
from rightsizer.uploader.app import create_app
from rightsizer.uploader.database import Database, describe
from rightsizer.uploader.prefork import run_workers

GRACEFUL_SHUTDOWN_S = 10
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Stopped(Exception):
    """A stop signal arrived before the server was up."""


class UploaderServer(uvicorn.Server):
    """uvicorn's server without re-raising the stop signal after a graceful shutdown.

    uvicorn re-sends a caught SIGTERM to the process once it has stopped, which ends the
    process with "killed by signal"; a task that was asked to stop and did should exit 0.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def make_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """uvicorn's settings for the uploader: fast loop and parser, long keep-alive, no access log."""
    return uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        ws="none",
        # uvicorn's 5 s default races Locust's `between(1, 5)` waits and costs reconnects.
        timeout_keep_alive=round(settings.keepalive),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,  # nothing forwards client addresses to us; one layer less
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on host:port (port 0 picks a free one).

    UsageError, in one line that says what to do, when the address cannot be had.
    """
    try:
        return _bind(host, port)
    except OSError as exc:
        raise bind_refused(host, port, exc) from None


def bind_refused(host: str, port: int, exc: OSError) -> UsageError:
    """The one-line error for an address that cannot be bound."""
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return UsageError(
            f"{where} is already in use; stop what listens there or choose another --port "
            "(0 picks a free one)"
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return UsageError(
            f"{where}: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, "
            "so choose --port 1024 or above"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return UsageError(f"{where}: no such address on this machine; check --host")
    reason = exc.strerror or str(exc)
    return UsageError(f"{where}: cannot listen there ({reason}); check --host and --port")


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        # Listen before the address is announced, so a client that connects at once is queued
        # rather than refused; uvicorn's own listen() later only sets the backlog again.
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    announce: TextIO | None = None,
    workers: int = 1,
) -> int:
    """Serve until SIGTERM or SIGINT; the exit code (0: stopped as asked). Raises
    RightsizerError when it cannot start. `workers` > 1 forks that many processes on the one
    socket (rightsizer.uploader.prefork), after the schema exists, so they do not race to
    create it."""
    announce = announce or sys.stdout
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
    with _stop_raises():
        try:
            with bind(host, port) as sock:
                if workers > 1:
                    _create_schema(settings)
                    _announce(sock, settings, announce, f", {workers} workers")
                    return run_workers(workers, lambda: _serve_on(sock, settings))
                app = create_app(settings)
                _announce(sock, settings, announce)
                UploaderServer(make_config(app, settings)).run(sockets=[sock])
        except _Stopped:
            return 0
    return 0


def _announce(sock: socket.socket, settings: Settings, announce: TextIO, extra: str = "") -> None:
    print(
        f"uploader listening on {url_of(sock)} (db {describe(settings.db)}, "
        f"data {settings.data_dir}{extra})",
        file=announce,
        flush=True,
    )


def _create_schema(settings: Settings) -> None:
    """The tables, made once before the workers fork; the engine is closed again so that no
    connection crosses the fork."""
    db = Database(settings.db)
    try:
        db.create_schema()
    finally:
        db.dispose()


def _serve_on(sock: socket.socket, settings: Settings) -> None:
    """One worker: its own app, database engine and event loop, on the shared socket."""
    UploaderServer(make_config(create_app(settings), settings)).run(sockets=[sock])


@contextlib.contextmanager
def _stop_raises() -> Iterator[None]:
    """Outside uvicorn's own handling (starting, stopping), a stop signal unwinds cleanly."""

    def handler(_sig: int, _frame: FrameType | None) -> None:
        raise _Stopped

    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
