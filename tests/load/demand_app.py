"""A service whose CPU demand per request is known: each GET /work burns D ms of CPU.

    python tests/load/demand_app.py --port 8000 --demand-ms 20   # --port 0: any, printed

The demand is CPU time, read with the thread CPU clock (`time.thread_time`), never slept: a
request costs D ms of CPU whether the task runs freely or waits for its CFS quota, so under a
cap of C cores the service completes at most C / D requests a second (the utilization law,
U = X x D, with U <= C). One worker thread does the burning, taking requests first come, first
served, as one busy core does; the connection threads only parse and reply.

    GET /work      burns D ms of CPU, then 200 "done"
    GET /healthz   200 "ok" (the fleet's health check; no burn)
    GET /stats     {"requests": n, "burn_cpu_s": s, "process_cpu_s": s}: what the requests
                   cost, so the overhead beyond D (parsing, threads) can be measured

Stdlib only, so it starts fast inside a small task.
"""

from __future__ import annotations

import argparse
import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Burner:
    """One thread that burns `demand_s` of its own CPU time per job, in arrival order."""

    def __init__(self, demand_s: float) -> None:
        self.demand_s = demand_s
        self.done = 0
        self._cpu = 0.0
        self._jobs: queue.SimpleQueue[threading.Event] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="burner", daemon=True).start()

    def submit(self) -> None:
        """Queue one job and wait until it has been burnt."""
        finished = threading.Event()
        self._jobs.put(finished)
        finished.wait()

    def cpu_s(self) -> float:
        return self._cpu

    def _run(self) -> None:
        while True:
            finished = self._jobs.get()
            start = time.thread_time()
            while time.thread_time() - start < self.demand_s:
                pass
            self._cpu = time.thread_time()
            self.done += 1
            finished.set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body in one segment (no Nagle / delayed-ACK stall on keep-alive).
    wbufsize = 65536
    disable_nagle_algorithm = True
    burner: Burner

    def do_GET(self) -> None:
        if self.path == "/work":
            self.burner.submit()
            self._reply("done\n")
        elif self.path == "/healthz":
            self._reply("ok\n")
        elif self.path == "/stats":
            stats = {
                "requests": self.burner.done,
                "burn_cpu_s": self.burner.cpu_s(),
                "process_cpu_s": time.process_time(),
            }
            self._reply(json.dumps(stats) + "\n")
        else:
            self._reply("not found\n", 404)

    def _reply(self, text: str, code: int = 200) -> None:
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
    parser.add_argument("--demand-ms", type=float, default=20.0, help="CPU ms per GET /work")
    args = parser.parse_args()
    Handler.burner = Burner(args.demand_ms / 1000)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"demand_app listening on port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
