"""A tiny task for fleet tests and benchmarks (stdlib only, so it starts fast).

    python tests/fleet/task_app.py --port 8000 [--burn 0.5 --cpu 0.25] [--spin 2]

GET /healthz -> 200 "ok"; GET / -> 200 "hello"; GET /alloc?mb=N allocates and touches N MiB
(to cross a memory limit). --burn D uses D x CPU vCPU continuously, in CPU time (not wall time),
so the reading does not depend on how busy the machine is; --spin N starts N busy processes
(more CPU than any small quota allows); --slow-start-if FILE makes a start slow once FILE exists.
"""

from __future__ import annotations

import argparse
import ctypes
import multiprocessing
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

_hoard: list[bytearray] = []
CYCLE = 0.1


def burn(share: float) -> None:
    """Use `share` of one CPU: `share x CYCLE` seconds of thread CPU time per cycle.

    Cycles keep a fixed schedule, so a late wake-up shortens the next sleep instead of
    stretching every cycle (which would read low on a busy machine); a task starved for a
    whole cycle starts a new schedule rather than burning back to back to catch up.
    """
    due = time.monotonic()
    while True:
        cpu0 = time.thread_time()
        while time.thread_time() - cpu0 < share * CYCLE:
            pass
        due += CYCLE
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        elif now - due > CYCLE:
            due = now


def spin() -> None:
    # Die with the task, like any well-behaved worker process (prctl PR_SET_PDEATHSIG).
    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)
    while True:
        pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body in one segment: two small writes would meet Nagle and delayed ACKs
    # (a 40 ms stall per keep-alive request).
    wbufsize = 65536
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/alloc":
            mb = int(parse_qs(url.query).get("mb", ["0"])[0])
            for _ in range(mb):
                _hoard.append(bytearray(b"x" * (1024 * 1024)))
            self._reply(200, f"holding {len(_hoard)} MiB\n")
        elif url.path in ("/", "/healthz"):
            self._reply(200, "ok\n" if url.path == "/healthz" else "hello\n")
        else:
            self._reply(404, "not found\n")

    def _reply(self, code: int, text: str) -> None:
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--burn", type=float, default=0.0, help="fraction of --cpu to use")
    parser.add_argument("--cpu", type=float, default=0.25)
    parser.add_argument("--spin", type=int, default=0, help="busy processes to start")
    parser.add_argument("--slow-start-if", help="wait 2 s before listening if this file exists")
    args = parser.parse_args()
    if args.slow_start_if and Path(args.slow_start_if).exists():
        time.sleep(2.0)  # a replacement that takes a while, as a real service does
    if args.burn:
        threading.Thread(target=burn, args=(args.burn * args.cpu,), daemon=True).start()
    for _ in range(args.spin):
        multiprocessing.Process(target=spin, daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
