"""Test helpers: a real uploader in a thread, raw HTTP exchanges, multipart bodies, a TCP proxy."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rightsizer.config import Settings
from rightsizer.uploader.app import create_app
from rightsizer.uploader.files import STORED_NAME, TEMP_NAME
from rightsizer.uploader.server import UploaderServer, bind, make_config, url_of

BOUNDARY = "test-boundary-5f1c"


@dataclass(frozen=True)
class Live:
    """A running uploader: its base URL, host, port and settings."""

    url: str
    host: str
    port: int
    settings: Settings


@contextlib.contextmanager
def serve_in_thread(settings: Settings, **options: Any) -> Iterator[Live]:
    """The real app on uvicorn (uvloop, httptools) on port 0, in a thread of this process.

    `options` go to `create_app` (e.g. `body_timeouts=BodyTimeouts(idle_s=0.5)`).
    """
    app = create_app(settings, **options)
    sock = bind("127.0.0.1", 0)
    server = UploaderServer(make_config(app, settings))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uploader did not start")
        time.sleep(0.01)
    try:
        host, port = sock.getsockname()[:2]
        yield Live(url_of(sock), host, port, settings)
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def multipart(
    *parts: tuple[bytes, bytes | None, bytes, bytes | None], boundary: str = BOUNDARY
) -> bytes:
    """A multipart body from (field name, filename or None, content, content type or None).

    Names go in raw, unescaped, so tests can send what hostile clients send.
    """
    out = bytearray()
    for name, filename, content, ctype in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        out += b'Content-Disposition: form-data; name="' + name + b'"'
        if filename is not None:
            out += b'; filename="' + filename + b'"'
        out += b"\r\n"
        if ctype is not None:
            out += b"Content-Type: " + ctype + b"\r\n"
        out += b"\r\n" + content + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return bytes(out)


def file_body(content: bytes, filename: bytes = b"test.jpg") -> bytes:
    return multipart((b"file", filename, content, b"image/jpeg"))


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def read_response(sock: socket.socket) -> RawResponse:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before the headers: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawResponse(int(lines[0].split()[1]), headers, body[:length])


def exchange(live: Live, request: bytes, *, timeout: float = 15) -> RawResponse:
    """Send raw bytes as they are and read one response."""
    with socket.create_connection((live.host, live.port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_response(sock)


def post_raw(
    live: Live,
    body: bytes,
    *,
    content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
    extra: str = "",
) -> RawResponse:
    head = (
        "POST /index.php?action=save HTTP/1.1\r\nHost: test\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return exchange(live, head.encode() + body)


def post_chunked(live: Live, chunks: Iterator[bytes], *, timeout: float = 15) -> RawResponse:
    """Send a chunked body from a thread while reading the answer, which may come early."""
    head = (
        "POST /index.php?action=save HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n"
    )
    with socket.create_connection((live.host, live.port), timeout=timeout) as sock:
        sock.sendall(head.encode())

        def send() -> None:
            with contextlib.suppress(OSError):
                for chunk in chunks:
                    sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sock.sendall(b"0\r\n\r\n")

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        response = read_response(sock)
        sender.join(timeout)
        return response


def stored_files(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if STORED_NAME.fullmatch(p.name))


def temp_files(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if TEMP_NAME.fullmatch(p.name))


@dataclass
class TcpProxy:
    """A TCP relay to a real server, that a test can stop and start again on the same port.

    A protocol-seam stand-in for "the database went away": stopping closes the listener and
    every relayed connection, so clients see refused and broken connections.
    """

    upstream: tuple[str, int]
    port: int = 0
    _listener: socket.socket | None = None
    _sockets: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            victims, self._sockets = [*self._sockets], []
            if self._listener is not None:
                victims.append(self._listener)
                self._listener = None
        for sock in victims:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def eventually(check: Callable[[], bool], timeout: float = 30) -> bool:
    """Poll `check` until it is true (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False
