"""Fleet benchmark: what sampling costs, what HAProxy adds, what one 0.25-vCPU uploader does.

    .venv/bin/python bench/fleet.py [--seconds 15]

1. Sampler CPU for 8 tasks at 1 Hz: the sampling thread's own CPU time (thread_time) over the
   run, cgroup reads + HAProxy stats + the SQLite batch, in % of one core (target <= 0.5%).
2. The p50 latency HAProxy adds: the same tiny endpoint, direct and through HAProxy, requests
   interleaved one by one on keep-alive connections in the same run (target <= 0.3 ms).
3. The uploader's flows/s in one task capped at 0.25 vCPU / 512 MiB behind HAProxy: a flow is
   GET /index.php then POST /index.php?action=save with a 100 KB file, like the seed's locustfile
   (target >= 150), from 8 closed-loop client threads with their own session cookies.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from rightsizer.config import load_settings
from rightsizer.fleet.fleet import Fleet
from rightsizer.fleet.spec import FleetSpec
from rightsizer.metrics.store import MetricKey, MetricStore

TASK_APP = Path(__file__).resolve().parents[1] / "tests" / "fleet" / "task_app.py"
SMALL_TASK = (sys.executable, str(TASK_APP), "--port", "{port}")


def sampler_cost(workdir: Path, seconds: float) -> None:
    store = MetricStore(workdir / "metrics.db")
    spec = FleetSpec(workdir=workdir / "f8", tasks=8, cpu=0.1, memory_mb=64, command=SMALL_TASK)
    with Fleet(spec, store=store) as fleet:
        assert fleet.sampling is not None
        loop = fleet.sampling
        time.sleep(1.5)
        cpu0, ticks0, t0 = loop.cpu_seconds, loop.ticks, time.monotonic()
        time.sleep(seconds)
        cpu, ticks = loop.cpu_seconds - cpu0, loop.ticks - ticks0
        wall = time.monotonic() - t0
        series = store.keys()
        rows = sum(len(store.samples(k)) for k in series)
    store.close()
    share = cpu / wall * 100
    print(f"sampler CPU, 8 tasks at 1 Hz: {share:.3f}% of one core "
          f"({cpu / max(ticks, 1) * 1000:.2f} ms per tick, {ticks} ticks, {rows} samples stored)"
          f"  target <= 0.5%  {'OK' if share <= 0.5 else 'MISSED'}")  # fmt: skip


def _timed_get(conn: http.client.HTTPConnection, path: str) -> float:
    start = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    assert response.status == 200, response.status
    return elapsed


def haproxy_latency(workdir: Path, requests: int) -> None:
    spec = FleetSpec(workdir=workdir / "lat", tasks=1, cpu=1.0, command=SMALL_TASK)
    with Fleet(spec, control=False) as fleet:
        task_port = fleet.status().tasks[0].port
        lb_port = int(fleet.url.rsplit(":", 1)[1])
        direct = http.client.HTTPConnection("127.0.0.1", task_port, timeout=5)
        through = http.client.HTTPConnection("127.0.0.1", lb_port, timeout=5)
        for _ in range(200):  # warm both paths (connections, caches)
            _timed_get(direct, "/")
            _timed_get(through, "/")
        a, b = [], []
        for _ in range(requests):
            a.append(_timed_get(direct, "/"))
            b.append(_timed_get(through, "/"))
        direct.close()
        through.close()
    p50a, p50b = statistics.median(a) * 1000, statistics.median(b) * 1000
    added = p50b - p50a
    print(f"latency p50: direct {p50a:.3f} ms, through HAProxy {p50b:.3f} ms -> HAProxy adds "
          f"{added:.3f} ms ({requests} requests each, interleaved)  target <= 0.3 ms  "
          f"{'OK' if added <= 0.3 else 'MISSED'}")  # fmt: skip


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = "rightsizerbench"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + os.urandom(size) + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _flows(port: int, until: float, body: bytes, ctype: str, counts: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    cookie: str | None = None
    done = failed = 0
    while time.monotonic() < until:
        headers = {"Cookie": cookie} if cookie else {}
        try:
            conn.request("GET", "/index.php", headers=headers)
            page = conn.getresponse()
            page.read()
            cookie = (page.getheader("Set-Cookie") or "").split(";")[0] or cookie
            headers = {"Content-Type": ctype, **({"Cookie": cookie} if cookie else {})}
            conn.request("POST", "/index.php?action=save", body=body, headers=headers)
            saved = conn.getresponse()
            saved.read()
            ok = page.status == 200 and saved.status in (302, 303)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = False
        done += ok
        failed += not ok
    conn.close()
    counts.extend([done, failed])


def uploader_flows(workdir: Path, seconds: float, clients: int = 8) -> None:
    settings = load_settings({"state_dir": str(workdir / "up"), "port": 0}, env={})
    store = MetricStore(workdir / "up-metrics.db")
    with Fleet(FleetSpec.from_settings(settings), store=store) as fleet:
        port = int(fleet.url.rsplit(":", 1)[1])
        body, ctype = _multipart(100 * 1024)
        warm: list[int] = []
        _flows(port, time.monotonic() + 3, body, ctype, warm)
        results: list[list[int]] = [[] for _ in range(clients)]
        start = time.time()
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=_flows, args=(port, until, body, ctype, results[i]))
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        end = time.time()
        time.sleep(1.2)
        key = MetricKey.of("CPUUtilization", ServiceName="uploader", TaskId="1")
        cpu = [v for _, v in store.samples(key, start + 1, end)]
    store.close()
    done, failed = sum(r[0] for r in results), sum(r[1] for r in results)
    rate = done / (end - start)
    mean_cpu = sum(cpu) / len(cpu) if cpu else float("nan")
    print(f"uploader, 1 task at 0.25 vCPU: {rate:.1f} flows/s ({done} flows, {failed} failed, "
          f"{clients} clients, task CPU {mean_cpu:.0f}% of its reservation)  target >= 150  "
          f"{'OK' if rate >= 150 else 'MISSED'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each measurement")
    parser.add_argument("--requests", type=int, default=3000, help="latency requests per path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rightsizer-bench-") as tmp:
        workdir = Path(tmp)
        sampler_cost(workdir, args.seconds)
        haproxy_latency(workdir, args.requests)
        uploader_flows(workdir, args.seconds)


if __name__ == "__main__":
    main()
