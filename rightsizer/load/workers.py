"""Local Locust worker processes for `--workers N`: started here, ended here, by PID.

Each is `python -m rightsizer.load.worker` (Locust's worker plus the recorder), in a session of
its own so that a Ctrl-C in the terminal reaches the run only; the run ends them after the load.
If the run itself dies (a crash, SIGKILL), the parent-death signal ends them too: start them
from the thread that runs the load (the main one). Their output goes to `worker-<i>.log` in the
run directory.

`master_bind_warning` is the line the run prints when the master listens beyond this machine:
Locust's worker protocol has no authentication.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rightsizer.fleet.child import child_setup
from rightsizer.process import stop_children, tail
from rightsizer.web.options import is_loopback

WORKER_STOP_TIMEOUT = 10.0


def master_bind_warning(host: str) -> str | None:
    """A one-line warning when the master's `host` can be reached from other machines."""
    if is_loopback(host.strip()):
        return None
    return (
        f"warning: --master-bind-host {host or '*'} is reachable from other machines and "
        "Locust's worker protocol has no authentication: anyone who reaches that port can join "
        "as a worker, receive the locustfile's tasks and send fake results; firewall the port, "
        "or bind 127.0.0.1 when every worker is local"
    )


def worker_command(locustfile: Path, master_port: int, master_host: str = "127.0.0.1") -> list[str]:
    """The command line of one local worker."""
    return [
        sys.executable,
        "-m",
        "rightsizer.load.worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
        "-f",
        str(locustfile),
        "--loglevel",
        "WARNING",
    ]


@dataclass
class LocalWorkers:
    """N worker processes on this machine."""

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @classmethod
    def start(cls, count: int, locustfile: Path, master_port: int, log_dir: Path) -> LocalWorkers:
        workers = cls()
        for index in range(1, count + 1):
            log_path = log_dir / f"worker-{index}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    worker_command(locustfile, master_port),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=child_setup(),  # noqa: PLW1509 (dies with the run; see child.py)
                    start_new_session=True,
                )
            workers.processes.append(process)
            workers.logs.append(log_path)
        return workers

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def exited(self) -> str | None:
        """A message about the first worker that has already exited, or None."""
        for process, log in zip(self.processes, self.logs, strict=True):
            code = process.poll()
            if code is not None:
                last = tail(log, 1)
                return f"worker {process.pid} exited with code {code}: {last} (log: {log})"
        return None

    def stop(self, timeout: float = WORKER_STOP_TIMEOUT) -> None:
        """SIGTERM to each process still running, by PID; SIGKILL after `timeout`."""
        stop_children(self.processes, timeout)
