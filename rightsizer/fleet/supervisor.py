"""Running a fleet as a command: in the foreground until a signal, detached, and stopping it.

    run_foreground(options, on_ready=print)   # `rightsizer up`: returns 0 after Ctrl-C/SIGTERM
    detach(argv, state_dir)                   # `rightsizer up --detach`: a background supervisor
    down(state_dir, cgroup_root)              # `rightsizer down`: SIGTERM it, wait, check

The first SIGINT, SIGTERM or SIGHUP stops the fleet in order (HAProxy, tasks, groups); further
signals are ignored until that is done, so a second Ctrl-C cannot leave groups behind.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

from rightsizer.errors import RefusedError, UnavailableError
from rightsizer.fleet.fleet import Fleet
from rightsizer.fleet.ledger import default_directory
from rightsizer.fleet.spec import FleetSpec
from rightsizer.fleet.state import (
    LOG_FILE,
    STATE_FILE,
    FleetLock,
    is_locked,
    read_state,
    supervisor_alive,
)
from rightsizer.fleet.sweep import sweep
from rightsizer.metrics.store import MetricStore
from rightsizer.rundir import write_json

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequested(BaseException):
    """Raised in the main thread by the first stop signal (not an error)."""


@dataclass(frozen=True)
class RunOptions:
    """`state_file` set (the load runner's contract): write it there and take no state-dir lock."""

    spec: FleetSpec
    state_dir: Path
    state_file: Path | None = None
    metrics_db: Path | None = None


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_IGN)  # stop once, in order
    raise StopRequested(signal.Signals(signum).name)


def run_foreground(options: RunOptions, on_ready: Callable[[dict[str, Any]], None]) -> int:
    """Start the fleet, write its state, call `on_ready`, serve until a stop signal; 0."""
    lock = None if options.state_file else FleetLock(options.state_dir).acquire()
    state_path = options.state_file or options.state_dir / STATE_FILE
    store = MetricStore(options.metrics_db) if options.metrics_db else None
    previous = {sig: signal.signal(sig, _raise_stop) for sig in _SIGNALS}
    fleet = Fleet(options.spec, store=store)
    try:
        fleet.start()
        write_json(state_path, fleet.state_document())
        on_ready(fleet.state_document())
        while fleet.alive:
            time.sleep(0.5)
    except (StopRequested, KeyboardInterrupt):
        pass
    finally:
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        fleet.stop()
        if options.state_file is None:
            state_path.unlink(missing_ok=True)
        if store is not None:
            store.close()
        if lock is not None:
            lock.release()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def detach(argv: Sequence[str], state_dir: Path, timeout: float = 180.0) -> dict[str, Any]:
    """Start `rightsizer <argv>` as a background supervisor; its state once it is up."""
    if is_locked(state_dir):
        FleetLock(state_dir).acquire()  # raises the RefusedError naming the running fleet
    state_path = state_dir / STATE_FILE
    state_path.unlink(missing_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / LOG_FILE).open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rightsizer", *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the terminal that started it
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        document = read_state(state_path)
        if document is not None and document.get("pid") == process.pid:
            process.returncode = 0  # it lives on by design; not a leaked child
            return document
        if process.poll() is not None:
            raise UnavailableError(f"the fleet did not start: {_log_tail(state_dir / LOG_FILE)}")
        time.sleep(0.1)
    process.terminate()
    process.wait(30)
    raise UnavailableError(f"the fleet was not up within {timeout:g}s; see {state_dir / LOG_FILE}")


@dataclass(frozen=True)
class DownReport:
    """What `down` found and did; `leftovers` is empty when nothing was left behind."""

    pid: int | None
    seconds: float = 0.0
    tasks: int = 0
    haproxy: bool = False
    killed: bool = False
    leftovers: list[str] = field(default_factory=list)


def down(
    state_dir: Path,
    cgroup_root: Path,
    *,
    timeout: float = 20.0,
    ledger_dir: Path | None = None,
) -> DownReport:
    """SIGTERM the recorded supervisor, wait for it, sweep, and check nothing is left."""
    state_path = state_dir / STATE_FILE
    document = read_state(state_path)
    if document is None:
        return DownReport(None)
    pid = int(document["pid"])
    started = time.monotonic()
    killed = False
    if supervisor_alive(document):
        if document.get("control_url") is None and document.get("name") is None:
            raise RefusedError(
                f"{state_path} does not describe a rightsizer fleet; not stopping {pid}"
            )
        psutil.Process(pid).send_signal(signal.SIGTERM)
        killed = not _wait_gone(document, timeout)
        if killed:
            psutil.Process(pid).kill()
            _wait_gone(document, 5.0)
    sweep(cgroup_root, ledger_dir or default_directory())
    report = DownReport(
        pid,
        time.monotonic() - started,
        len(document.get("tasks", [])),
        document.get("haproxy_pid") is not None,
        killed,
        _leftovers(document),
    )
    state_path.unlink(missing_ok=True)
    return report


def _wait_gone(document: dict[str, Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not supervisor_alive(document):
            return True
        time.sleep(0.05)
    return False


def _leftovers(document: dict[str, Any]) -> list[str]:
    found = [f"group {g}" for g in document.get("groups", []) if Path(g).exists()]
    pids = [t["pid"] for t in document.get("tasks", [])]
    if document.get("haproxy_pid"):
        pids.append(document["haproxy_pid"])
    for pid in pids:
        try:
            alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            alive = False
        if alive:
            found.append(f"process {pid}")
    return found


def _log_tail(path: Path, size: int = 800) -> str:
    try:
        lines = path.read_bytes()[-size:].decode(errors="replace").strip().splitlines()
    except OSError:
        return "(no output)"
    return " | ".join(lines[-5:]) or "(no output)"
