"""The target of the tests across hosts: counts every GET /hit it answers; GET /count says how
many. `python tests/load/netns_target.py PORT` listens on every address of its namespace."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Counter(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    hits = 0

    def log_message(self, format: str, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        if self.path == "/hit":
            with Counter.lock:
                Counter.hits += 1
            body = b"hit"
        elif self.path == "/count":
            with Counter.lock:
                body = str(Counter.hits).encode()
        else:
            body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Counter)
    server.daemon_threads = True
    print("listening", flush=True)
    server.serve_forever()
