"""The webhook action's POST, bounded in size and in time whatever the peer does.

    ok, detail = post_json("https://hooks.example/x", body, timeout=5.0, deadline=15.0)

httpx's `timeout` bounds each network operation (connect, one read, one write): a peer that
sends a byte every few seconds never trips it, and a body read whole can be any size. So the
response is streamed and only its first BODY_LIMIT bytes are read (the rest is never fetched:
the connection is closed), and a watchdog shuts the connection's socket down once `deadline`
seconds have passed since the POST began, which ends a read or write in progress at once.
Redirects are not followed. Name resolution happens before the socket exists and is bounded
only by the system resolver.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from typing import Any

import httpx

BODY_LIMIT = 4096  # bytes of the response kept; a webhook's answer is a status and a word
DETAIL_LIMIT = 200  # characters of the response quoted when the POST failed


def post_json(url: str, content: bytes, *, timeout: float, deadline: float) -> tuple[bool, str]:
    """POST `content` as application/json; (True, "POST url: 200") on a 2xx answer, else
    False and why. Never waits more than about `deadline` seconds once connected."""
    watchdog = _Watchdog(deadline)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream(
                "POST",
                url,
                content=content,
                headers={"Content-Type": "application/json"},
                extensions={"trace": watchdog.trace},
            ) as response,
        ):
            head = _head(response)
    except httpx.HTTPError as exc:
        if watchdog.fired:
            return False, f"POST {url}: no complete answer within {deadline:g} s"
        return False, f"POST {url}: {exc.__class__.__name__}: {exc}"
    finally:
        watchdog.cancel()
    if response.is_success:
        return True, f"POST {url}: {response.status_code}"
    quoted = head.decode(errors="replace").strip()[:DETAIL_LIMIT]
    return False, f"POST {url}: HTTP {response.status_code}" + (f": {quoted}" if quoted else "")


def _head(response: httpx.Response) -> bytes:
    """The first BODY_LIMIT bytes of the body as sent (not decompressed: a small gzip body
    must not grow into a large one here); the rest is left unread."""
    head = bytearray()
    for chunk in response.iter_raw():
        head += chunk[: BODY_LIMIT - len(head)]
        if len(head) >= BODY_LIMIT:
            break
    return bytes(head)


class _Watchdog:
    """Shuts the request's socket down when `deadline` seconds have passed.

    It holds its own duplicate of the socket's descriptor, taken when httpcore reports the
    connection (its `trace` extension), so shutting down never touches a descriptor number
    that httpx has closed and the system has given to something else."""

    def __init__(self, deadline: float) -> None:
        self.fired = False
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._done = False
        self._timer = threading.Timer(deadline, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback: keep the socket of each connection it opens."""
        if not event.endswith(".connect_tcp.complete"):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            if self._done:
                return
            if self._socket is not None:
                self._socket.close()
            self._socket = socket.socket(fileno=os.dup(sock.fileno()))
            if self.fired:
                self._shutdown()

    def cancel(self) -> None:
        """The request is over: stop the timer and let go of the duplicate."""
        self._timer.cancel()
        with self._lock:
            self._done = True
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
