"""CPU milliseconds per upload flow of the reference uploader, at saturation, SQLite and MariaDB.

Two flows, each with the session cookie kept per connection:
  get+post   GET /index.php, then POST a 100 KB file to /index.php?action=save (the issue's flow;
             the 303 answer is not followed)
  locust     the same plus the GET of /index.php that the 303 leads to, which Locust follows
The server runs as `rightsizer serve` in its own process; a driver process (raw HTTP/1.1 on
keep-alive connections, uvloop: far cheaper per request than the server) runs a fixed number of
flows over enough connections to keep the server busy. The figure is the server process's
user+system CPU time over those flows, divided by their number.

    .venv/bin/python bench/uploader.py [--flows 3000] [--connections 32] [--backend sqlite]

Targets (issue 2, for get+post): <= 1.5 ms per flow on SQLite, <= 2.5 ms on MariaDB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
MARIADB = os.environ.get("RIGHTSIZER_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")
TARGETS_MS = {"sqlite": 1.5, "mariadb": 2.5}
BOUNDARY = b"rightsizer-bench-boundary-7d3f"
FILE_BYTES = 100 * 1024
WARMUP_FLOWS = 300
# tmpfs by default: on this machine's ext4, creating a file costs 0.1-1 ms of kernel CPU that
# depends on how many files the whole machine deleted lately (ext4's recently_deleted() inode
# scan), which would drown the service's own cost. `--root` measures any other filesystem.
DEFAULT_ROOT = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())


# ---- the driver (runs in its own process) -----------------------------------------------------


def _multipart(content: bytes) -> bytes:
    return (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="test.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + content + b"\r\n--" + BOUNDARY + b"--\r\n"
    )


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes | None]:
    """Status and session cookie of one response (the body is read and dropped)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, cookie = 0, None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"set-cookie":
            cookie = value.strip().split(b";", 1)[0]
    if length:
        await reader.readexactly(length)
    return status, cookie


async def _connection(port: int, budget: list[int], body: bytes, redirect: bool) -> int:
    """Run flows on one keep-alive connection until the shared budget is used up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cookie = b""
    failures = 0
    post_head = (
        b"POST /index.php?action=save HTTP/1.1\r\nHost: bench\r\n"
        b"Content-Type: multipart/form-data; boundary=" + BOUNDARY + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    )
    get_head = b"GET /index.php HTTP/1.1\r\nHost: bench\r\n"
    while budget[0] > 0:
        budget[0] -= 1
        writer.write(get_head + cookie + b"\r\n")
        status, new = await _response(reader)
        cookie = b"Cookie: " + new + b"\r\n" if new else cookie
        writer.write(post_head + cookie + b"\r\n" + body)
        posted, _ = await _response(reader)
        failures += status != 200 or posted != 303
        if redirect:
            writer.write(get_head + cookie + b"\r\n")
            status, _ = await _response(reader)
            failures += status != 200
    writer.close()
    return failures


async def _drive(port: int, flows: int, connections: int, redirect: bool) -> None:
    body = _multipart(os.urandom(FILE_BYTES))
    budget = [flows]
    results = await asyncio.gather(
        *(_connection(port, budget, body, redirect) for _ in range(connections))
    )
    print(sum(results))


# ---- the bench (spawns server and driver) -------------------------------------------------------

FLOWS = {"get+post": False, "locust": True}  # flow name -> follow the redirect


@dataclass(frozen=True)
class Figure:
    backend: str
    flow: str
    ms_per_flow: float
    flows_per_s: float
    server_busy: float
    user_share: float
    failures: int


def _start_server(db: str, data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, "-m", "rightsizer", "serve", "--port", "0"]
    command += ["--host", "127.0.0.1", "--db", db, "--data-dir", str(data_dir)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on http://" not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    port = int(line.split("listening on http://", 1)[1].split()[0].rsplit(":", 1)[1])
    return proc, port


def _run_driver(port: int, flows: int, connections: int, redirect: bool) -> int:
    command = [sys.executable, __file__, "--drive", str(port), str(flows), str(connections)]
    command += [] if redirect else ["--no-redirect"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    return int(done.stdout.strip() or "0")


def _one(backend: str, flow: str, *, port: int, pid: int, flows: int, connections: int) -> Figure:
    redirect = FLOWS[flow]
    _run_driver(port, WARMUP_FLOWS, connections, redirect)
    server = psutil.Process(pid)
    before = server.cpu_times()
    start = time.perf_counter()
    failures = _run_driver(port, flows, connections, redirect)
    wall = time.perf_counter() - start
    after = server.cpu_times()
    user = after.user - before.user
    cpu = user + after.system - before.system
    return Figure(backend, flow, cpu * 1000 / flows, flows / wall, cpu / wall, user / cpu, failures)


def measure(backend: str, db: str, flows: int, connections: int, root: Path) -> list[Figure]:
    """Both flows against one server process on `db`, data dir in a temp dir under `root`."""
    with tempfile.TemporaryDirectory(prefix="rightsizer-bench-", dir=root) as tmp:
        proc, port = _start_server(db, Path(tmp) / "data")
        try:
            return [
                _one(backend, flow, port=port, pid=proc.pid, flows=flows, connections=connections)
                for flow in FLOWS
            ]
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _mariadb_database() -> tuple[sa.Engine, str] | None:
    engine = sa.create_engine(MARIADB + "/")
    try:
        with engine.begin() as conn:
            name = f"rightsizer_bench_{uuid.uuid4().hex[:10]}"
            conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    except sa.exc.OperationalError as exc:
        print(f"mariadb: skipped, server not reachable ({exc.orig})")
        engine.dispose()
        return None
    return engine, name


def _print(f: Figure) -> None:
    target = TARGETS_MS[f.backend]
    verdict = ("ok" if f.ms_per_flow <= target else "OVER") if f.flow == "get+post" else "info"
    print(
        f"{f.backend:8s} {f.flow:9s} {f.ms_per_flow:6.3f} ms CPU/flow  (target {target} ms:"
        f" {verdict:4s})  {f.flows_per_s:6.1f} flows/s  server busy {f.server_busy:4.0%}"
        f"  user {f.user_share:4.0%}  failed {f.failures}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--flows", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backend", choices=["sqlite", "mariadb", "both"], default="both")
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help=f"where the data dir and SQLite file go (default {DEFAULT_ROOT})",
    )
    parser.add_argument("--drive", nargs=3, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-redirect", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        import uvloop

        port, flows, connections = args.drive
        uvloop.run(_drive(port, flows, connections, redirect=not args.no_redirect))
        return
    print(
        f"uploader: server CPU per flow at saturation, {args.flows} flows over"
        f" {args.connections} connections; data dir and SQLite file under {args.root}"
    )
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="rightsizer-bench-db-", dir=args.root) as tmp:
            url = f"sqlite:///{tmp}/uploader.db"
            for figure in measure("sqlite", url, args.flows, args.connections, args.root):
                _print(figure)
    if args.backend in ("mariadb", "both") and (made := _mariadb_database()):
        engine, name = made
        try:
            url = f"{MARIADB}/{name}"
            for figure in measure("mariadb", url, args.flows, args.connections, args.root):
                _print(figure)
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            engine.dispose()


if __name__ == "__main__":
    main()
