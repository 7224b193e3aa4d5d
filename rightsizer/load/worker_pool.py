"""`rightsizer worker`: Locust worker processes on this machine for a master on another one.

    pool = WorkerPool.start(MasterAddress.parse("10.0.0.5:5557"), processes=2, locustfile=UPLOADER)
    code = pool.wait()      # when the master ends its run, every worker ends, and so does this

Each process is `python -m rightsizer.load.worker` (Locust's worker with the recorder and the
handshake), one core's worth of load each: start one per core. A worker started before its
master keeps asking (Locust's worker retries for five minutes, and ZeroMQ delivers its first
message once the master listens), so the order of starting does not matter. A master that
finds other versions or another locustfile refuses the worker (rightsizer.load.handshake),
which exits with code 2 after one line.

The processes run in sessions of their own with the parent-death signal set: a Ctrl-C or
SIGTERM reaches the pool, which ends them by PID; if the pool dies, they die with it. `wait()`
returns 2 when the master refused any of them, 1 when any other ended with an error, else 0.
"""

from __future__ import annotations

import ipaddress
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from rightsizer.errors import UsageError
from rightsizer.fleet.child import child_setup
from rightsizer.load import locustfile as locustfiles
from rightsizer.load.handshake import REFUSED_EXIT, file_digest
from rightsizer.load.workers import WORKER_STOP_TIMEOUT, worker_command
from rightsizer.process import stop_children

DEFAULT_MASTER_PORT = 5557  # Locust's own default --master-port
MAX_PROCESSES = 256
POLL = 0.2

Say = Callable[[str], None]


@dataclass(frozen=True)
class MasterAddress:
    """Where the master listens: `--master HOST[:PORT]` ("[v6]:PORT" for IPv6 with a port)."""

    host: str
    port: int = DEFAULT_MASTER_PORT

    @classmethod
    def parse(cls, text: str) -> MasterAddress:
        """UsageError naming --master for anything but a host and an optional port."""
        given = text.strip()
        host, port = given, str(DEFAULT_MASTER_PORT)
        if given.startswith("["):
            inside, _, rest = given[1:].partition("]")
            host = inside
            if rest:
                if not rest.startswith(":"):
                    raise UsageError(f"--master: {text!r}; give HOST, HOST:PORT or [IPv6]:PORT")
                port = rest[1:]
        elif given.count(":") == 1:
            host, port = given.split(":")
        elif given.count(":") > 1:
            try:
                ipaddress.IPv6Address(given)
            except ValueError:
                raise UsageError(
                    f"--master: {text!r}; give HOST, HOST:PORT or [IPv6]:PORT"
                ) from None
        if not host or any(ch.isspace() for ch in host):
            raise UsageError(f"--master: {text!r} names no host; give HOST or HOST:PORT")
        if not port.isdigit() or not 0 < int(port) <= 65535:
            raise UsageError(f"--master: port {port!r} is not a port (1-65535)")
        return cls(host, int(port))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def check_processes(processes: int) -> int:
    if not 1 <= processes <= MAX_PROCESSES:
        raise UsageError(f"--processes: {processes}; give 1 to {MAX_PROCESSES} (one per core)")
    return processes


@dataclass
class WorkerPool:
    """The worker processes of one `rightsizer worker`."""

    master: MasterAddress
    say: Say
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    codes: dict[int, int] = field(default_factory=dict)  # pid: exit code, once ended
    signals: int = 0

    @classmethod
    def start(
        cls, master: MasterAddress, processes: int, locustfile: Path, say: Say = print
    ) -> WorkerPool:
        pool = cls(master, say)
        command = worker_command(locustfile, master.port, master.host)
        for _ in range(check_processes(processes)):
            pool.processes.append(
                subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=child_setup(),  # noqa: PLW1509 (dies with the pool; see child.py)
                    start_new_session=True,
                )
            )
        return pool

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signals += 1

    def wait(self) -> int:
        """Until every process has ended (the master's run ended, or a signal came); the
        pool's exit code (see the module docstring)."""
        previous = {
            number: signal.signal(number, self._on_signal)
            for number in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            while len(self.codes) < len(self.processes) and not self.signals:
                self._reap()
                time.sleep(POLL)
        finally:
            self.stop()
            for number, handler in previous.items():
                signal.signal(number, handler)
        self._reap()
        return self.exit_code()

    def _reap(self) -> None:
        for process in self.processes:
            code = process.poll()
            if code is not None and process.pid not in self.codes:
                self.codes[process.pid] = code
                self.say(f"worker process {process.pid} ended with code {code}")

    def exit_code(self) -> int:
        codes = list(self.codes.values())
        if REFUSED_EXIT in codes:
            return REFUSED_EXIT
        return 1 if any(code != 0 for code in codes) else 0

    def stop(self, timeout: float = WORKER_STOP_TIMEOUT) -> None:
        """SIGTERM to each process still running, by PID; SIGKILL after `timeout`."""
        stop_children(self.processes, timeout)


def run_workers(master: str, processes: int, locustfile: Path, say: Say = print) -> int:
    """`rightsizer worker`: start the pool, wait for the master's run to end; the exit code."""
    address = MasterAddress.parse(master)
    check_processes(processes)
    path = locustfiles.check_path(locustfile)
    pool = WorkerPool.start(address, processes, path, say)
    say(
        f"{processes} worker process(es) (pids {', '.join(map(str, pool.pids))}) for the master "
        f"at {address}, locustfile {path} (sha256 {file_digest(path)[:12]}); they wait for the "
        "master and end with its run"
    )
    sys.stdout.flush()
    return pool.wait()
