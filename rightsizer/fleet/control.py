"""The supervisor's small HTTP endpoint on 127.0.0.1 (any free port):

GET /metrics   the latest samples for Prometheus (text format)
GET /status    the status JSON of `rightsizer status --json`
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from rightsizer.fleet.ports import LOOPBACK


class ControlServer:
    """Serves /metrics and /status from a thread until `stop()`."""

    def __init__(self, registry: CollectorRegistry, status: Callable[[], dict[str, Any]]) -> None:
        self._registry = registry
        self._status = status
        self._server = ThreadingHTTPServer((LOOPBACK, 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="rightsizer-control", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        control = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(control._registry))
                elif path == "/status":
                    body = json.dumps(control._status(), indent=2).encode()
                    self._send(200, "application/json", body)
                else:
                    self._send(404, "text/plain", b"not found: use /metrics or /status\n")

            def _send(self, code: int, content_type: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # scrapes every few seconds would flood the supervisor's log

        return Handler
