"""How much does rightsizer's exact recording cost the load generator?

The same FastHttpUser scenario (GET /healthz, no wait) runs for the same time through
`rightsizer run --host` and through plain `locust --headless`, in one run of this script,
against one server. For each, over a steady window in the middle of the load, it measures

    requests per generator-CPU-second = requests the server answered / CPU seconds the
                                        generator process (and its children) used

and prints the ratio rightsizer / plain Locust (target >= 0.9). `wrk` on the same endpoint gives
the server's ceiling. The server is a small asyncio HTTP server in its own process that counts
requests, so both figures come from outside the generator.

    .venv/bin/python bench/loadgen.py [--window 8] [--users 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

LOCUSTFILE = """
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Health(FastHttpUser):
    wait_time = constant(0)

    @task
    def health(self):
        self.client.get("/healthz")
"""
WARM = 3.0


# -- the server ------------------------------------------------------------------------------


class _Health(asyncio.Protocol):
    count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            if head.startswith(b"GET /count"):
                body = str(_Health.count).encode()
            else:
                _Health.count += 1
                body = b"ok"
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            )


def serve(port: int) -> None:
    """Answer GET /healthz with 200 "ok" and count it; GET /count says how many so far."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Health, "127.0.0.1", port)
        print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()

    asyncio.run(main())


# -- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    name: str
    requests: int
    cpu_seconds: float
    wall_seconds: float

    @property
    def per_cpu_second(self) -> float:
        return self.requests / self.cpu_seconds

    def line(self) -> str:
        return (
            f"{self.name:<22} {self.requests / self.wall_seconds:8.0f} req/s  "
            f"generator CPU {100 * self.cpu_seconds / self.wall_seconds:5.1f}% of a core  "
            f"{self.per_cpu_second:8.0f} requests per CPU-second"
        )


def server_count(url: str) -> int:
    with urllib.request.urlopen(url + "/count", timeout=5) as reply:  # our server
        return int(reply.read())


def cpu_seconds(process: psutil.Process) -> float:
    total = 0.0
    for member in (process, *process.children(recursive=True)):
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measure(name: str, command: list[str], url: str, window: float, cwd: Path) -> Figure:
    """Start the generator, wait for steady load, measure one window, wait for it to end."""
    log = (cwd / f"{name.split(maxsplit=1)[0]}.log").open("wb")
    process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    watched = psutil.Process(process.pid)
    try:
        start = server_count(url)
        deadline = time.monotonic() + 60
        while server_count(url) == start:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name}: no load reached the server; see {log.name}")
            time.sleep(0.1)
        time.sleep(WARM)
        c0, cpu0, t0 = server_count(url), cpu_seconds(watched), time.monotonic()
        time.sleep(window)
        c1, cpu1, t1 = server_count(url), cpu_seconds(watched), time.monotonic()
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    return Figure(name, c1 - c0, cpu1 - cpu0, t1 - t0)


def wrk(url: str, seconds: int = 5, connections: int = 20) -> str:
    binary = shutil.which("wrk") or "/usr/bin/wrk"
    if not Path(binary).exists():
        return "wrk not installed (apt-get install wrk)"
    done = subprocess.run(
        [binary, "-t1", f"-c{connections}", f"-d{seconds}s", url + "/healthz"],
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + 30,
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    return f"{float(match.group(1)):.0f} req/s" if match else done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=8.0, help="measured seconds per run")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="alternating runs of each")
    args = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, __file__, "serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}"
        run_time = int(WARM + args.window + 5)
        with tempfile.TemporaryDirectory(prefix="rightsizer-bench-") as tmp:
            cwd = Path(tmp)
            (cwd / "health.py").write_text(LOCUSTFILE)
            rightsizer = [
                sys.executable, "-m", "rightsizer", "run", "-f", "health.py", "--host", url,
                "--users", str(args.users), "--step-time", str(run_time), "--cooldown", "0",
                "--out", str(cwd / "runs"),
            ]  # fmt: skip
            plain = [
                sys.executable, "-m", "locust", "-f", "health.py", "--headless",
                "-u", str(args.users), "-r", str(args.users), "-t", f"{run_time}s",
                "--host", url, "--only-summary",
            ]  # fmt: skip
            figures: dict[str, list[Figure]] = {"rightsizer run": [], "locust --headless": []}
            for _ in range(args.rounds):
                for name, command in (("locust --headless", plain), ("rightsizer run", rightsizer)):
                    figure = measure(name, command, url, args.window, cwd)
                    figures[name].append(figure)
                    print(figure.line(), flush=True)
        ceiling = wrk(url)
    finally:
        server.terminate()
        server.wait()

    best = {
        name: statistics.median(f.per_cpu_second for f in runs) for name, runs in figures.items()
    }
    ratio = best["rightsizer run"] / best["locust --headless"]
    print()
    print(f"requests per generator-CPU-second, median of {args.rounds}:")
    for name, value in best.items():
        print(f"  {name:<20} {value:8.0f}")
    print(f"ratio rightsizer / plain Locust: {ratio:.3f} (target >= 0.9)")
    print(f"wrk on the same endpoint (ceiling of the server): {ceiling}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(0)
    else:
        main()
