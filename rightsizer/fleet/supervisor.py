"""Running a fleet as a command: in the foreground until a signal, detached, and stopping it.

    run_foreground(options, on_ready=print)   # `rightsizer up`: returns 0 after Ctrl-C/SIGTERM
    detach(argv, state_dir)                   # `rightsizer up --detach`: a background supervisor
    down(state_dir, cgroup_root)              # `rightsizer down`: SIGTERM it, wait, check

The first SIGINT, SIGTERM or SIGHUP stops the fleet in order (HAProxy, tasks, groups); further
signals are ignored until that is done, so a second Ctrl-C cannot leave groups behind.

Each supervisor has a directory of its own for HAProxy's configuration and the logs: the run's
when a run started it (`--workdir`), else `<state_dir>/fleets/<pid>/`, kept after the fleet
stops (the logs stay readable) until the next `up` from that state dir removes the directories
of supervisors that no longer run. A fleet started for a run (`--state-file`) also stops when
the run that started it is gone: it gets SIGTERM when its parent dies, and checks its parent.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from rightsizer.errors import RefusedError, UnavailableError
from rightsizer.fleet.fleet import Fleet
from rightsizer.fleet.ledger import default_directory
from rightsizer.fleet.spec import FleetSpec
from rightsizer.fleet.state import (
    FLEETS_DIR,
    LOG_FILE,
    STATE_FILE,
    FleetLock,
    ServingMark,
    is_locked,
    load_state,
    read_state,
    supervisor_alive,
    supervisor_pid,
    supervisor_workdir,
)
from rightsizer.fleet.sweep import sweep, sweep_workdirs
from rightsizer.metrics.store import MetricStore
from rightsizer.private_path import private_directory
from rightsizer.process import running, spawn_detached, start_time, stop_pid, tail
from rightsizer.rundir import write_json

log = logging.getLogger("rightsizer.fleet")
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PARENT_CHECK = 0.5


class StopRequested(BaseException):
    """Raised in the main thread by the first stop signal (not an error)."""


@dataclass(frozen=True)
class RunOptions:
    """`state_file` set (the load runner's contract): write it there, take no state-dir lock,
    and stop when the parent process is gone. `workdir`: the fleet's directory (default: one
    of this supervisor's own under the state dir)."""

    spec: FleetSpec
    state_dir: Path
    state_file: Path | None = None
    metrics_db: Path | None = None
    workdir: Path | None = None


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_IGN)  # stop once, in order
    raise StopRequested(signal.Signals(signum).name)


def _workdir(options: RunOptions) -> Path:
    if options.workdir is not None:
        return options.workdir
    sweep_workdirs(options.state_dir / FLEETS_DIR)
    return supervisor_workdir(options.state_dir)


def run_foreground(options: RunOptions, on_ready: Callable[[dict[str, Any]], None]) -> int:
    """Start the fleet, write its state, call `on_ready`, serve until a stop signal; 0."""
    parent = os.getppid() if options.state_file else None
    lock = None if options.state_file else FleetLock(options.state_dir).acquire()
    try:
        serving = ServingMark(options.state_dir).acquire()  # `reset` refuses while it is held
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    state_path = options.state_file or options.state_dir / STATE_FILE
    store = MetricStore(options.metrics_db) if options.metrics_db else None
    previous = {sig: signal.signal(sig, _raise_stop) for sig in _SIGNALS}
    spec = dataclasses.replace(options.spec, workdir=_workdir(options))
    fleet = Fleet(spec, store=store, ledger_dir=default_directory(options.state_dir))
    try:
        fleet.start()
        write_json(state_path, fleet.state_document())
        on_ready(fleet.state_document())
        while fleet.alive:
            if parent is not None and os.getppid() != parent:
                log.warning(
                    "the process that started this fleet (pid %d) is gone; stopping", parent
                )
                break
            time.sleep(_PARENT_CHECK)
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
        serving.release()
        if lock is not None:
            lock.release()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def detach(
    argv: Sequence[str],
    state_dir: Path,
    timeout: float = 180.0,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Start `rightsizer <argv>` as a background supervisor (not our child: it outlives us),
    with `env` (default: ours); its state once it is up."""
    if is_locked(state_dir):
        FleetLock(state_dir).acquire()  # raises the RefusedError naming the running fleet
    state_path, log_path = state_dir / STATE_FILE, state_dir / LOG_FILE
    private_directory(state_dir)
    state_path.unlink(missing_ok=True)
    pid = spawn_detached([sys.executable, "-m", "rightsizer", *argv], log_path, env)
    created = start_time(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        document = read_state(state_path)
        if document is not None and document.get("pid") == pid:
            return document
        if created is None or not running(pid, created):
            raise UnavailableError(f"the fleet did not start: {tail(log_path)}")
        time.sleep(0.1)
    stop_pid(pid, created, 30.0)
    raise UnavailableError(f"the fleet was not up within {timeout:g}s; see {log_path}")


@dataclass(frozen=True)
class DownReport:
    """What `down` found and did; `leftovers` is empty when nothing was left behind."""

    pid: int | None
    seconds: float = 0.0
    tasks: int = 0
    haproxy: bool = False
    killed: bool = False
    leftovers: list[str] = field(default_factory=list)
    workdir: str | None = None


def down(
    state_dir: Path,
    cgroup_root: Path,
    *,
    timeout: float = 20.0,
    ledger_dir: Path | None = None,
) -> DownReport:
    """SIGTERM the recorded supervisor, wait for it, sweep, and check nothing is left."""
    state_path = state_dir / STATE_FILE
    document = load_state(state_path)  # a broken one: UsageError, one line (exit 2)
    if document is None:
        return DownReport(None)
    identity = supervisor_pid(document)
    if identity is None:
        raise RefusedError(
            f"{state_path} names no supervisor pid; if no fleet runs, delete that file"
        )
    pid, created = identity
    if created is None and running(pid):
        raise RefusedError(
            f"{state_path} gives no start time for supervisor pid {pid}, which may now be "
            "another process; not signalling it. If no fleet runs, delete that file"
        )
    started = time.monotonic()
    killed = False
    if supervisor_alive(document):
        if document.get("control_url") is None and document.get("name") is None:
            raise RefusedError(
                f"{state_path} does not describe a rightsizer fleet; not stopping {pid}"
            )
        killed = stop_pid(pid, created, timeout)
    sweep(cgroup_root, ledger_dir or default_directory(state_dir))
    tasks = document.get("tasks")
    report = DownReport(
        pid,
        time.monotonic() - started,
        len(tasks) if isinstance(tasks, list) else 0,
        document.get("haproxy_pid") is not None,
        killed,
        _leftovers(document),
        document.get("workdir") if isinstance(document.get("workdir"), str) else None,
    )
    state_path.unlink(missing_ok=True)
    return report


def _leftovers(document: dict[str, Any]) -> list[str]:
    """Groups and processes the document names that still exist (malformed entries skipped)."""
    groups = document.get("groups")
    found = (
        [f"group {g}" for g in groups if isinstance(g, str) and Path(g).exists()]
        if isinstance(groups, list)
        else []
    )
    tasks = document.get("tasks")
    pids = [t.get("pid") for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else []
    pids.append(document.get("haproxy_pid"))
    for pid in pids:
        if isinstance(pid, int) and not isinstance(pid, bool) and running(pid):
            found.append(f"process {pid}")
    return found
