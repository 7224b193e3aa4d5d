"""How much does rightsizer's exact recording cost the load generator, and do workers add any?

The same FastHttpUser scenario (GET /healthz, no wait) runs for the same time through plain
`locust --headless`, through `rightsizer run --host` (one process) and through `rightsizer run
--host --workers 2` (a master and two Locust workers), in one run of this script, against one
server. For each, over a steady window in the middle of the load, it measures

    requests per generator-CPU-second = requests the server answered / CPU seconds the
                                        generator process and its children used

and prints: the ratio rightsizer / plain Locust (target >= 0.9); two workers against one
process, per CPU-second (target: within 10%) and in requests per second (target >= 1.4x on two
cores). `wrk` on the same endpoint gives the server's ceiling. The server is a small asyncio HTTP
server in its own process that counts requests, so every figure comes from outside the
generator.

Why the rounds vary, and what the figures are made of. The three cases run in every round, in
an order that rotates from round to round, so a slow stretch of the machine hits all of them.
The ratios are taken within a round (each round's rightsizer figure over the same round's
Locust figure), and the median over rounds is reported with its spread. Each round also records
what could explain its speed: the machine's busy cores that are neither the generator nor the
target (neighbours), the target's own CPU, the load average, and a fixed pure-Python loop timed
in CPU seconds just before the window (how fast a CPU-second is at that moment, which a VM's
host or a neighbour sharing the core's caches changes). The correlation of each with the
per-CPU-second figure is printed, so the cause is measured, not guessed. Requests per second
depend on the CPU the neighbours leave: the two-worker gain is also printed over the quiet
windows alone (neighbours under QUIET of a core).

    .venv/bin/python bench/loadgen.py [--window 8] [--users 20] [--rounds 5] [--pin]

`--pin` puts the target on the last CPU and the one-process generators on the others (the
two-worker case keeps every CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
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
PLAIN, ONE, TWO = "locust --headless", "rightsizer run", "rightsizer --workers 2"
CALIBRATION_LOOPS = 400_000
QUIET = 0.25  # cores the neighbours may use in a window that counts as quiet


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
    """One case in one round: what the server answered and what it cost, with the round's
    circumstances."""

    name: str
    requests: int
    cpu_seconds: float
    wall_seconds: float
    target_cpu: float  # cores the target used in the window
    neighbours: float  # busy cores that were neither generator nor target
    load: float  # 1-minute load average at the end of the window
    calibration: float  # million loop turns per CPU-second, just before the window
    own_cpu: float  # CPU seconds of the top process alone (the master, with workers)

    @property
    def per_cpu_second(self) -> float:
        return self.requests / self.cpu_seconds

    @property
    def per_second(self) -> float:
        return self.requests / self.wall_seconds

    def line(self, round_: int) -> str:
        return (
            f"r{round_} {self.name:<22} {self.per_second:7.0f} req/s  generator "
            f"{100 * self.cpu_seconds / self.wall_seconds:5.1f}% of a core  "
            f"{self.per_cpu_second:6.0f} req/CPU-s  | target {100 * self.target_cpu:4.0f}%  "
            f"neighbours {100 * self.neighbours:4.0f}%  load {self.load:4.2f}  "
            f"calib {self.calibration:5.2f}"
            + (
                f"  (master {100 * self.own_cpu / self.wall_seconds:.0f}% of a core)"
                if self.own_cpu < 0.9 * self.cpu_seconds
                else ""
            )
        )


def server_count(url: str) -> int:
    with urllib.request.urlopen(url + "/count", timeout=5) as reply:  # our server
        return int(reply.read())


def cpu_seconds(process: psutil.Process, children: bool = True) -> float:
    total = 0.0
    for member in (process, *(process.children(recursive=True) if children else ())):
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def machine_busy() -> float:
    """CPU-seconds the whole machine spent busy so far (all cores)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def calibrate() -> float:
    """Million turns of a fixed pure-Python loop per CPU-second of this process."""
    start = time.process_time()
    total = 0
    for i in range(CALIBRATION_LOOPS):
        total += i & 7
    return CALIBRATION_LOOPS / 1e6 / max(time.process_time() - start, 1e-9)


def measure(
    name: str,
    command: list[str],
    url: str,
    window: float,
    cwd: Path,
    *,
    target: psutil.Process,
    cpus: set[int] | None,
) -> Figure:
    """Start the generator, wait for steady load, measure one window, wait for it to end."""
    log = (cwd / f"{name.replace(' ', '_')}.log").open("wb")
    process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    if cpus is not None:
        os.sched_setaffinity(process.pid, cpus)
    watched = psutil.Process(process.pid)
    try:
        start = server_count(url)
        deadline = time.monotonic() + 60
        while server_count(url) == start:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name}: no load reached the server; see {log.name}")
            time.sleep(0.1)
        time.sleep(WARM)
        speed = calibrate()
        busy0, target0 = machine_busy(), cpu_seconds(target)
        own0 = cpu_seconds(watched, children=False)
        c0, cpu0, t0 = server_count(url), cpu_seconds(watched), time.monotonic()
        time.sleep(window)
        c1, cpu1, t1 = server_count(url), cpu_seconds(watched), time.monotonic()
        own1 = cpu_seconds(watched, children=False)
        busy1, target1 = machine_busy(), cpu_seconds(target)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    wall, generator, served = t1 - t0, cpu1 - cpu0, target1 - target0
    return Figure(
        name,
        c1 - c0,
        generator,
        wall,
        target_cpu=served / wall,
        neighbours=max(0.0, (busy1 - busy0) - generator - served) / wall,
        load=os.getloadavg()[0],
        calibration=speed,
        own_cpu=own1 - own0,
    )


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


# -- summing up ------------------------------------------------------------------------------


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Pearson's r; 0 when either side does not vary."""
    if len(xs) < 3 or statistics.pstdev(xs) == 0 or statistics.pstdev(ys) == 0:
        return 0.0
    return statistics.correlation(xs, ys)


def spread(values: Sequence[float]) -> str:
    middle = statistics.median(values)
    return (
        f"median {middle:7.3f}  min {min(values):7.3f}  max {max(values):7.3f}  "
        f"(+-{100 * (max(values) - min(values)) / 2 / middle:4.1f}%)"
    )


def summary(rounds: list[dict[str, Figure]]) -> None:
    print()
    print(f"requests per generator-CPU-second over {len(rounds)} rounds:")
    for name in (PLAIN, ONE, TWO):
        values = [r[name].per_cpu_second for r in rounds]
        print(f"  {name:<22} {spread(values)}")
    print("within each round, then the median over rounds:")
    ratio = [r[ONE].per_cpu_second / r[PLAIN].per_cpu_second for r in rounds]
    per_cpu = [r[TWO].per_cpu_second / r[ONE].per_cpu_second for r in rounds]
    per_second = [r[TWO].per_second / r[ONE].per_second for r in rounds]
    print(f"  rightsizer / plain Locust per CPU-s    {spread(ratio)}  target >= 0.9")
    print(f"  2 workers / 1 process per CPU-s        {spread(per_cpu)}  target 0.9-1.1")
    print(f"  2 workers / 1 process requests/s       {spread(per_second)}  target >= 1.4")
    quiet = {n: [r[n].per_second for r in rounds if r[n].neighbours < QUIET] for n in (ONE, TWO)}
    if all(quiet.values()):
        gain = statistics.median(quiet[TWO]) / statistics.median(quiet[ONE])
        print(
            f"  2 workers / 1 process requests/s, quiet windows only (neighbours < "
            f"{100 * QUIET:.0f}% of a core; {len(quiet[ONE])} and {len(quiet[TWO])} of them): "
            f"{gain:.3f}  target >= 1.4"
        )
    else:
        print(f"  no quiet window (neighbours < {100 * QUIET:.0f}% of a core) for both cases")
    # Each figure over its case's median, so the cases' own levels do not read as a cause.
    middle = {n: statistics.median(r[n].per_cpu_second for r in rounds) for n in (PLAIN, ONE, TWO)}
    figures = [f for r in rounds for f in r.values()]
    values = [f.per_cpu_second / middle[f.name] for f in figures]
    print("what the per-CPU-second figures move with (Pearson r, each over its case's median):")
    for label, xs in (
        ("calibration loop speed", [f.calibration for f in figures]),
        ("neighbours' CPU", [f.neighbours for f in figures]),
        ("target's CPU", [f.target_cpu for f in figures]),
        ("load average", [f.load for f in figures]),
    ):
        print(f"  {label:<24} r = {correlation(xs, values):+.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=8.0, help="measured seconds per run")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every case")
    parser.add_argument("--pin", action="store_true", help="target on its own CPU")
    args = parser.parse_args()

    cpus = sorted(os.sched_getaffinity(0))
    server = subprocess.Popen(
        [sys.executable, __file__, "serve"], stdout=subprocess.PIPE, text=True
    )
    generator_cpus = None
    if args.pin and len(cpus) > 1:
        os.sched_setaffinity(server.pid, {cpus[-1]})
        generator_cpus = set(cpus[:-1])
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}"
        target = psutil.Process(server.pid)
        run_time = int(WARM + args.window + 5)
        rounds: list[dict[str, Figure]] = []
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
            cases = [
                (PLAIN, plain, generator_cpus),
                (ONE, rightsizer, generator_cpus),
                (TWO, [*rightsizer, "--workers", "2"], None),
            ]
            for number in range(args.rounds):
                figures: dict[str, Figure] = {}
                for name, command, pinned in cases[number % 3 :] + cases[: number % 3]:
                    figures[name] = measure(
                        name, command, url, args.window, cwd, target=target, cpus=pinned
                    )
                    print(figures[name].line(number + 1), flush=True)
                rounds.append(figures)
        ceiling = wrk(url)
    finally:
        server.terminate()
        server.wait()
    summary(rounds)
    print(f"wrk on the same endpoint (ceiling of the server): {ceiling}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(0)
    else:
        main()
