"""The supervisor's small HTTP endpoint on 127.0.0.1 (any free port), and its client:

GET /metrics   the latest samples for Prometheus (text format)
GET /status    the status JSON of `rightsizer status --json` (asks HAProxy, or each task's health
               check with `--lb none`: for people, not for polling during a measurement)
GET /samples   the latest sampling tick as JSON, from memory only: cheap enough to poll every
               second while load runs, and it sends nothing to the tasks being measured

A request whose Host is not 127.0.0.1 or localhost gets 421 (no DNS rebinding); at most
`MAX_CONNECTIONS` connections are served at once (503 beyond), each dropped after
`SOCKET_TIMEOUT` seconds of silence.

    fetch_status(state["control_url"])                     # UnavailableError if no good answer
    task_average(fetch_status(url, path=SAMPLES_PATH))     # mean task CPUUtilization, or None
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from rightsizer.errors import UnavailableError
from rightsizer.fleet.ports import LOOPBACK
from rightsizer.metrics import names
from rightsizer.metrics.recent import Recent

STATUS_PATH = "/status"
SAMPLES_PATH = "/samples"
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_MAX_REPLY = 8 * 1024 * 1024
MAX_CONNECTIONS = 16  # Prometheus, `status`, a run's poll: a few at a time
SOCKET_TIMEOUT = 10.0  # seconds a connection may stay silent
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def samples_document(recent: Recent) -> dict[str, Any]:
    """`{"tick": t, "samples": [{"name", "dimensions", "timestamp", "value", "unit"}]}`."""
    tick, batch = recent.newest()
    return {
        "tick": tick,
        "samples": [
            {
                "name": s.key.name,
                "dimensions": s.key.dimension_map,
                "timestamp": s.timestamp,
                "value": s.value,
                "unit": s.unit,
            }
            for s in batch
        ],
    }


def task_average(document: Mapping[str, Any], name: str = names.CPU_UTILIZATION) -> float | None:
    """The mean over tasks of the per-task series `name` in a /samples document; None if none."""
    samples = document.get("samples")
    values = [
        float(s["value"])
        for s in (samples if isinstance(samples, list) else [])
        if isinstance(s, dict)
        and s.get("name") == name
        and isinstance(s.get("dimensions"), dict)
        and names.TASK_DIMENSION in s["dimensions"]
        and isinstance(s.get("value"), int | float)
        and math.isfinite(s["value"])
    ]
    return math.fsum(values) / len(values) if values else None


def fetch_status(control_url: str, timeout: float = 5.0, path: str = STATUS_PATH) -> dict[str, Any]:
    """The JSON object a supervisor serves at `path`; UnavailableError (one line) when it does
    not answer, answers an error, or sends something else than a JSON object."""
    parts = urlsplit(control_url)
    if parts.scheme != "http" or parts.hostname not in _LOCAL_HOSTS:
        raise UnavailableError(f"the fleet's control URL {control_url!r} is not http on 127.0.0.1")
    try:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    except ValueError as exc:  # a port that is not a number
        raise UnavailableError(
            f"the fleet's control URL {control_url!r} is invalid ({exc})"
        ) from None
    target = parts.path.rstrip("/") + path
    url = f"http://{parts.netloc}{target}"
    try:
        connection.request("GET", target)
        reply = connection.getresponse()
        body = reply.read(_MAX_REPLY + 1)
    except (OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise UnavailableError(
            f"the fleet's supervisor does not answer at {url} ({reason})"
        ) from None
    finally:
        connection.close()
    if reply.status != 200:
        raise UnavailableError(f"the fleet's supervisor answered {reply.status} at {url}")
    try:
        document = json.loads(body) if len(body) <= _MAX_REPLY else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        document = None
    if not isinstance(document, dict):
        raise UnavailableError(f"the fleet's supervisor sent no JSON object at {url}")
    return document


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most `max_connections` at once: one more is answered 503
    and closed at once, from the accepting thread, without a thread of its own."""

    daemon_threads = True

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], max_connections: int, timeout: float
    ) -> None:
        super().__init__((LOOPBACK, 0), handler)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._refusal_timeout = timeout

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.settimeout(self._refusal_timeout)
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        # ThreadingMixIn's, with the slot freed before the client sees the connection close.
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 (reported by socketserver, as ThreadingMixIn does)
            self.handle_error(request, client_address)
        finally:
            self._slots.release()
            self.shutdown_request(request)


class ControlServer:
    """Serves /metrics, /status and /samples from a thread until `stop()`.

    Only to requests whose Host names the address it is bound to (127.0.0.1 or localhost):
    a web page the operator opens cannot read it through DNS rebinding. At
    most `max_connections` at once, each closed after `timeout` seconds of silence."""

    def __init__(
        self,
        registry: CollectorRegistry,
        status: Callable[[], dict[str, Any]],
        recent: Recent,
        *,
        max_connections: int = MAX_CONNECTIONS,
        timeout: float = SOCKET_TIMEOUT,
    ) -> None:
        self._registry = registry
        self._status = status
        self._recent = recent
        self._server = _BoundedServer(self._handler(timeout), max_connections, timeout)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def allowed_hosts(self) -> frozenset[str]:
        """The Host header values it answers: its own address, by number or as localhost,
        with or without its port."""
        names = (LOOPBACK, "localhost")
        return frozenset([*names, *(f"{name}:{self.port}" for name in names)])

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

    def _handler(self, timeout: float) -> type[BaseHTTPRequestHandler]:
        control = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").strip().lower()
                if host not in control.allowed_hosts():
                    self._send(421, "text/plain", b"wrong Host: use " + control.url.encode())
                    return
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(control._registry))
                elif path == STATUS_PATH:
                    self._json(control._status())
                elif path == SAMPLES_PATH:
                    self._json(samples_document(control._recent))
                else:
                    self._send(404, "text/plain", b"not found: use /metrics, /status or /samples\n")

            def _json(self, document: dict[str, Any]) -> None:
                self._send(200, "application/json", json.dumps(document, indent=2).encode())

            def _send(self, code: int, content_type: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # scrapes every few seconds would flood the supervisor's log

        Handler.timeout = timeout  # the socket's (StreamRequestHandler): drops silent clients
        return Handler
