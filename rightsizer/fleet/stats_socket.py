"""HAProxy's runtime API on its admin stats socket: read stats, re-point and drain servers.

api = StatsSocket(Path(".../haproxy.sock"))
api.show_stat()                                   # one dict per CSV row
api.set_server_address("tasks", "t2", 41234)      # replacement task, no reload
api.set_server_state("tasks", "t2", "maint")
"""

from __future__ import annotations

import csv
import io
import socket
from pathlib import Path

from rightsizer.errors import UnavailableError

_CHUNK = 65536


class StatsSocket:
    """One command per connection (HAProxy's non-interactive mode)."""

    def __init__(self, path: Path, timeout: float = 2.0) -> None:
        self.path = path
        self.timeout = timeout

    def command(self, line: str) -> str:
        """Send one command and return HAProxy's whole answer."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(str(self.path))
                sock.sendall(line.encode() + b"\n")
                chunks = []
                while chunk := sock.recv(_CHUNK):
                    chunks.append(chunk)
        except OSError as exc:
            raise UnavailableError(
                f"HAProxy's stats socket {self.path} does not answer ({exc})"
            ) from None
        return b"".join(chunks).decode(errors="replace")

    def show_stat(self) -> list[dict[str, str]]:
        """`show stat` as rows keyed by the CSV header (pxname, svname, status, hrsp_2xx, ...)."""
        text = self.command("show stat")
        if not text.startswith("# "):
            raise UnavailableError(f"unexpected answer to 'show stat': {text[:80]!r}")
        return list(csv.DictReader(io.StringIO(text[2:])))

    def set_server_address(self, backend: str, server: str, port: int) -> None:
        self._expect_ok(f"set server {backend}/{server} addr 127.0.0.1 port {port}")

    def set_server_state(self, backend: str, server: str, state: str) -> None:
        """`ready`, `drain` or `maint`."""
        self._expect_ok(f"set server {backend}/{server} state {state}")

    def set_server_health(self, backend: str, server: str, health: str) -> None:
        """`up`, `stopping` or `down`: what the checks think until their next result."""
        self._expect_ok(f"set server {backend}/{server} health {health}")

    def _expect_ok(self, line: str) -> None:
        answer = self.command(line).strip()
        # Success is an empty answer or an informational one ("IP changed from ...").
        if answer and ("No such" in answer or "Require" in answer or "Unknown" in answer):
            raise UnavailableError(f"HAProxy refused {line!r}: {answer}")
