"""A small real HTTP target for the load tests, with the uploader's routes and a /healthz.

    GET  /healthz                    200 "ok" (the fleet's health check)
    GET  / and /index.php            200, a small page
    POST /index.php?action=save      reads the whole body, counts it, 303 to /index.php
    GET  /slow?ms=N                  answers after N ms (requests in flight at the end)
    GET  /counts                     {"saves": n, "requests": n, "slow": n}

Runs in a thread of the test (`serve_in_thread`) or as a task command of a fleet
(`python tests/load/target_app.py {port}`).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE = b"<html><body><form method=post enctype=multipart/form-data></form></body></html>"


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.saves = 0
        self.requests = 0
        self.slow = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counts: Counts
    save_status = 303  # what a save answers; 200 plays a broken uploader

    def log_message(self, format: str, *args: object) -> None:
        return None

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        with self.counts.lock:
            self.counts.requests += 1
        if parts.path == "/healthz":
            self._send(200, b"ok")
        elif parts.path in ("/", "/index.php"):
            self._send(200, PAGE, {"Content-Type": "text/html"})
        elif parts.path == "/slow":
            time.sleep(int(parse_qs(parts.query).get("ms", ["100"])[0]) / 1000)
            self._send(200, b"slow")
            with self.counts.lock:
                self.counts.slow += 1
        elif parts.path == "/counts":
            with self.counts.lock:
                body = {
                    "saves": self.counts.saves,
                    "requests": self.counts.requests,
                    "slow": self.counts.slow,
                }
            self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
        else:
            self._send(404, b"not found")

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with self.counts.lock:
            self.counts.requests += 1
        if parts.path == "/index.php" and parse_qs(parts.query).get("action") == ["save"]:
            with self.counts.lock:
                self.counts.saves += 1
            self._send(self.save_status, b"", {"Location": "/index.php"})
        else:
            self._send(404, b"not found")


def make_server(port: int, save_status: int = 303) -> tuple[ThreadingHTTPServer, Counts]:
    counts = Counts()
    handler = type("BoundHandler", (Handler,), {"counts": counts, "save_status": save_status})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server, counts


def serve_in_thread(save_status: int = 303) -> tuple[ThreadingHTTPServer, Counts, str]:
    """A server on a free port, serving in a daemon thread; shut it down with .shutdown()."""
    server, counts = make_server(0, save_status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counts, f"http://127.0.0.1:{server.server_address[1]}"


if __name__ == "__main__":
    srv, _ = make_server(int(sys.argv[1]))
    print(f"listening on {srv.server_address[1]}", flush=True)
    srv.serve_forever()
