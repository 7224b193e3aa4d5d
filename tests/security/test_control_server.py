"""The fleet's control server against hostile clients: DNS rebinding, idle and piled-up sockets.

A web page the operator opens can point a name it controls at 127.0.0.1 and read the server's
answers (DNS rebinding): only requests naming the loopback address it is bound to are served.
Clients that connect and say nothing, or many at once, must not hold threads without bound.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from rightsizer.fleet.control_server import ControlServer, fetch_status
from rightsizer.metrics.prometheus import private_registry
from rightsizer.metrics.recent import Recent

# Long enough that a connection of the test is never dropped for silence by accident.
PATIENT = 60.0


def _server(**limits: Any) -> ControlServer:
    recent = Recent()
    return ControlServer(private_registry(recent), lambda: {"tasks": []}, recent, **limits)


@pytest.fixture
def control() -> Iterator[ControlServer]:
    server = _server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _get(port: int, host: str | None, path: str = "/status") -> bytes:
    """The raw answer to one GET with this Host header (none when None)."""
    header = b"" if host is None else b"Host: " + host.encode() + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENT) as sock:
        sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\n" + header + b"\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_a_foreign_host_is_refused(control: ControlServer) -> None:
    port = control.port
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", None):
        answer = _get(port, host)
        assert _status(answer) == 421, (host, answer[:80])
        assert b'"tasks"' not in answer
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", "LOCALHOST"):
        assert _status(_get(port, host)) == 200, host
    assert fetch_status(control.url) == {"tasks": []}  # the CLI's own client still works


def test_connections_beyond_the_bound_are_turned_away_not_given_threads() -> None:
    server = _server(max_connections=2, timeout=PATIENT)
    server.start()
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
    try:
        # Accepted in order: both idle ones hold the two slots when this one comes.
        assert _status(_get(server.port, f"127.0.0.1:{server.port}")) == 503
    finally:
        for sock in idle:
            sock.close()
        server.stop()


def test_a_slot_is_freed_when_its_connection_ends() -> None:
    server = _server(max_connections=1, timeout=PATIENT)
    server.start()
    try:
        host = f"127.0.0.1:{server.port}"
        for _ in range(3):  # one after another: each frees the only slot when done
            assert _status(_get(server.port, host)) == 200
    finally:
        server.stop()


def test_a_silent_client_is_dropped() -> None:
    server = _server(timeout=0.2)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=PATIENT) as sock:
            assert sock.recv(1024) == b""  # the server closed it (rather than wait forever)
    finally:
        server.stop()
