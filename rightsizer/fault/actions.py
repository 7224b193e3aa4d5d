"""How each fault kind is done to a fleet this run started, and undone.

    fleet = FaultFleet.from_state(target.state, settings.cgroup_root)
    fleet.check(faults)                      # UnavailableError: what this machine lacks, one line
    applied = inject(Fault.parse("freeze-task@5s+3s:1"), fleet)
    applied.undo()                           # thaw / ready; a no-op for kill-task; safe twice

The fleet runs in the `up` child (rightsizer.load.target); this process reaches it through its
state document: the supervisor's pid, its control server (the current task in each slot, with
its pid), HAProxy's admin socket and the cgroup version. A fault only touches a process whose
parent is that supervisor, so nothing outside the fleet is hit.

- kill-task: SIGKILL the task's process; the supervisor notices and starts a new one in the
  slot, as it does for any task that ends.
- oom-task: the task's memory group pushed over its limit by an allocator of ours in it, the
  task made the OOM killer's choice; the kernel kills it, the supervisor restarts it
  (rightsizer.fault.oom).
- freeze-task: the cgroup freezer (rightsizer.cgroup.freezer), v1 in a group of our own, v2 in
  the task's group.
- lb-drain: `set server tasks/t<slot> state drain` on HAProxy's runtime API, `ready` at its end.
- db-outage (SQLite): `BEGIN EXCLUSIVE` on the uploader's database file from a connection of
  ours, `ROLLBACK` at its end. In WAL mode (the uploader's) writers wait for it, up to their
  busy timeout, and then fail; readers go on. The kernel drops the lock if we die. MariaDB is
  not done here: `check` says so.
- db-outage and db-latency (MariaDB): the run's tcp proxy (rightsizer.fault.db_proxy), which
  the tasks reach the server through when the run has such a fault: it drops and refuses
  connections, or delays each round trip by DB_LATENCY_S, and forwards as before at the end.
- cpu-steal: a noisy neighbour, one busy-looping process of ours per core the first task may
  run on, started with the parent-death signal (they end with us however we end), SIGKILLed at
  its end. On a machine shared with the load generator, it competes with the generator too:
  the steps' generator CPU shows it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from rightsizer.cgroup.freezer import (
    Frozen,
    fault_group_name,
    freeze_v1,
    freeze_v2,
    own_freezer_dir,
    sweep_stale_groups,
    v2_group_of,
)
from rightsizer.errors import CgroupError, UnavailableError
from rightsizer.fault.db_proxy import MECHANISM, DbProxy
from rightsizer.fault.fault import DB_LATENCY_S, Fault, FaultKind
from rightsizer.fault.oom import memory_group_of, push_over_limit
from rightsizer.fleet.child import child_setup
from rightsizer.fleet.control_server import fetch_status
from rightsizer.fleet.haproxy_config import BACKEND, server_name
from rightsizer.fleet.stats_socket import StatsSocket

STATUS_TIMEOUT = 2.0
LOCK_WAIT = 5.0  # seconds a db-outage waits for the writers in flight before it holds the lock


@dataclass(frozen=True)
class FaultFleet:
    """What a fault needs to know of the fleet: read from its state document."""

    supervisor_pid: int
    control_url: str
    lb_socket: Path | None
    cgroup_version: int | None
    cgroup_root: Path
    groups: tuple[Path, ...]
    db: str | None = None  # the uploader's database URL (settings.db)
    proxy: DbProxy | None = None  # MariaDB: the tcp proxy the tasks reach it through

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any],
        cgroup_root: Path,
        db: str | None = None,
        proxy: DbProxy | None = None,
    ) -> FaultFleet:
        pid, control = state.get("pid"), state.get("control_url")
        if not isinstance(pid, int) or not isinstance(control, str):
            raise UnavailableError("faults: the fleet's state names no supervisor to reach")
        socket, version = state.get("haproxy_socket"), state.get("cgroup_version")
        groups = state.get("groups") or []
        return cls(
            supervisor_pid=pid,
            control_url=control,
            lb_socket=Path(socket) if isinstance(socket, str) else None,
            cgroup_version=version if isinstance(version, int) and state.get("capped") else None,
            cgroup_root=cgroup_root,
            groups=tuple(Path(g) for g in groups if isinstance(g, str)),
            db=db,
            proxy=proxy,
        )

    def check(self, faults: Sequence[Fault]) -> None:
        """UnavailableError naming what is missing for a fault of `faults`, before any load."""
        kinds = {f.kind for f in faults}
        if FaultKind.DB_OUTAGE in kinds and self.proxy is None:
            self.sqlite_path()
        if FaultKind.DB_LATENCY in kinds and self.proxy is None:
            backend = (self.db or "none").split(":", 1)[0]
            raise UnavailableError(
                "--fault db-latency: only on MariaDB, through the run's tcp proxy; "
                f"the database is {backend}"
            )
        if kinds & {FaultKind.LB_DRAIN} and self.lb_socket is None:
            raise UnavailableError("--fault lb-drain: the fleet runs without HAProxy (--lb none)")
        if FaultKind.OOM_TASK in kinds and self.cgroup_version is None:
            raise UnavailableError(
                "--fault oom-task: the fleet's tasks have no memory limit of ours (uncapped)"
            )
        if FaultKind.FREEZE_TASK in kinds:
            if self.cgroup_version is None:
                raise UnavailableError(
                    "--fault freeze-task: the fleet's tasks are not in cgroups of ours (uncapped)"
                )
            if self.cgroup_version == 1:
                try:
                    own_freezer_dir(self.cgroup_root)
                except CgroupError as exc:
                    raise UnavailableError(f"--fault freeze-task: {exc}") from None

    def sqlite_path(self) -> Path:
        """The uploader's SQLite file; UnavailableError for any other database."""
        prefix = "sqlite:///"
        if self.db is None or not self.db.startswith(prefix) or self.db == prefix + ":memory:":
            backend = (self.db or "none").split(":", 1)[0]
            raise UnavailableError(
                f"--fault db-outage: only on a SQLite file here; the database is {backend}"
            )
        return Path(self.db.removeprefix(prefix))

    def lb(self) -> StatsSocket:
        if self.lb_socket is None:
            raise UnavailableError("the fleet runs without HAProxy")
        return StatsSocket(self.lb_socket)

    def task_pid(self, slot: int, running: bool = False) -> int:
        """The pid of the task in `slot` now, checked to be the supervisor's child; with
        `running`, only once it is healthy (a replacement that is serving)."""
        status = fetch_status(self.control_url, STATUS_TIMEOUT)
        for row in status.get("tasks") or []:
            if not isinstance(row, dict) or row.get("slot") != slot:
                continue
            wanted = ("running",) if running else ("starting", "running")
            pid = row.get("pid")
            if row.get("state") in wanted and isinstance(pid, int) and self._ours(pid):
                return pid
        raise UnavailableError(f"no running task in slot {slot}")

    def stopped(self, pid: int) -> dict[str, Any]:
        """How the supervisor says the task `pid` ended ({} when it does not list it):
        `stop_reason` as ECS words it, `exit_code`, `oom`."""
        status = fetch_status(self.control_url, STATUS_TIMEOUT)
        for row in status.get("stopped_tasks") or []:
            if isinstance(row, dict) and row.get("pid") == pid:
                return {"stop_reason": row.get("reason"), "exit_code": row.get("exit_code"),
                        "oom": row.get("oom")}  # fmt: skip
        return {}

    def _ours(self, pid: int) -> bool:
        try:
            return psutil.Process(pid).ppid() == self.supervisor_pid
        except psutil.Error:
            return False

    def unified_mount(self) -> Path:
        """Where the v2 tree is mounted: the root itself (pure v2) or its `unified` (hybrid)."""
        if (self.cgroup_root / "cgroup.controllers").exists():
            return self.cgroup_root
        return self.cgroup_root / "unified"


@dataclass
class Applied:
    """A fault as done: `facts` for faults.json; `undo()` ends it (once); `follow()`, asked
    until it answers, says what the fleet did about it (None: not yet)."""

    facts: dict[str, Any] = field(default_factory=dict)
    _undo: Callable[[], None] | None = None
    follow: Callable[[], dict[str, Any] | None] | None = None

    def undo(self) -> None:
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()


def inject(fault: Fault, fleet: FaultFleet) -> Applied:
    """Do `fault` now; RightsizerError (nothing done) when it cannot be."""
    if fault.kind.on_database and fleet.proxy is not None:
        return _through_proxy(fault, fleet.proxy)
    actions: dict[FaultKind, Callable[[Fault, FaultFleet], Applied]] = {
        FaultKind.KILL_TASK: _kill,
        FaultKind.OOM_TASK: _oom,
        FaultKind.FREEZE_TASK: _freeze,
        FaultKind.DB_OUTAGE: lambda _, f: _lock_database(f),
        FaultKind.CPU_STEAL: lambda _, f: _steal_cpu(f),
        FaultKind.LB_DRAIN: _drain,
    }
    action = actions.get(fault.kind)
    if action is None:  # db-latency without the proxy: `check` refuses it before the load
        raise UnavailableError(f"--fault {fault.text}: not possible on this database")
    return action(fault, fleet)


def _kill(fault: Fault, fleet: FaultFleet) -> Applied:
    pid = fleet.task_pid(fault.task)
    os.kill(pid, signal.SIGKILL)
    return Applied({"pid": pid, "mechanism": "SIGKILL"}, follow=_replacement(fleet, fault, pid))


def _replacement(fleet: FaultFleet, fault: Fault, pid: int) -> Callable[[], dict[str, Any] | None]:
    """Asks whether the supervisor has a new, healthy task in the slot of `pid`."""

    def replaced() -> dict[str, Any] | None:
        new = fleet.task_pid(fault.task, running=True)
        if new == pid:
            return None
        return {"replaced_by_pid": new, "replaced_at": time.time()} | fleet.stopped(pid)

    return replaced


def _oom(fault: Fault, fleet: FaultFleet) -> Applied:
    """The task's memory group over its limit until the OOM killer kills it (fault.oom)."""
    if fleet.cgroup_version is None:
        raise UnavailableError(
            "--fault oom-task: the fleet's tasks have no memory limit (uncapped)"
        )
    pid = fleet.task_pid(fault.task)
    try:
        group = memory_group_of(pid, fleet.cgroup_root, fleet.cgroup_version)
    except CgroupError as exc:
        raise UnavailableError(f"--fault oom-task: {exc}") from None
    if not any(group.is_relative_to(parent) for parent in fleet.groups):
        raise UnavailableError(f"task {fault.task}'s memory group {group} is not the fleet's")
    facts = push_over_limit(pid, group, fleet.cgroup_version)
    return Applied(facts, follow=_replacement(fleet, fault, pid))


def _freeze(fault: Fault, fleet: FaultFleet) -> Applied:
    pid = fleet.task_pid(fault.task)
    frozen: Frozen
    if fleet.cgroup_version == 1:
        own = own_freezer_dir(fleet.cgroup_root)
        try:
            pids = (pid, *(c.pid for c in psutil.Process(pid).children(recursive=True)))
        except psutil.Error:
            pids = (pid,)
        sweep_stale_groups(own)  # a dead run's, whose guard died with it
        frozen = freeze_v1(own, fault_group_name(os.getpid(), fault.task), pids)
        mechanism = "cgroup v1 freezer.state"
    else:
        group = v2_group_of(pid, fleet.unified_mount())
        if not any(group.is_relative_to(parent) for parent in fleet.groups):
            raise UnavailableError(f"task {fault.task}'s group {group} is not the fleet's")
        frozen = freeze_v2(group)
        mechanism = "cgroup v2 cgroup.freeze"
    facts = {"pid": pid, "mechanism": mechanism, "group": str(frozen.directory)}
    return Applied(facts, frozen.thaw)


def _drain(fault: Fault, fleet: FaultFleet) -> Applied:
    api, server = fleet.lb(), server_name(fault.task)
    api.set_server_state(BACKEND, server, "drain")
    facts = {"server": f"{BACKEND}/{server}", "mechanism": "HAProxy runtime API state drain"}
    return Applied(facts, lambda: api.set_server_state(BACKEND, server, "ready"))


def _lock_database(fleet: FaultFleet) -> Applied:
    path = fleet.sqlite_path()
    if not path.is_file():
        raise UnavailableError(f"--fault db-outage: no database at {path}")
    # Autocommit mode: the transaction is ours to begin and end; any thread may end it.
    connection = sqlite3.connect(path, timeout=LOCK_WAIT, isolation_level=None,
                                 check_same_thread=False)  # fmt: skip
    try:
        connection.execute("BEGIN EXCLUSIVE")
    except sqlite3.Error as exc:
        connection.close()
        raise UnavailableError(f"--fault db-outage: could not lock {path} ({exc})") from None

    def release() -> None:
        try:
            connection.execute("ROLLBACK")
        finally:
            connection.close()

    return Applied({"database": str(path), "mechanism": "SQLite BEGIN EXCLUSIVE"}, release)


def _through_proxy(fault: Fault, proxy: DbProxy) -> Applied:
    """MariaDB: the tcp proxy between the tasks and the server delays or refuses; `facts`
    gains its counters (connections refused, dropped, chunks delayed) at the end."""
    before = proxy.counters()
    facts: dict[str, Any] = {"mechanism": MECHANISM, "database": proxy.upstream,
                             "proxy": proxy.address, "proxy_pid": proxy.process.pid}  # fmt: skip
    if fault.kind is FaultKind.DB_LATENCY:
        proxy.latency(DB_LATENCY_S)
        facts["latency_ms"] = DB_LATENCY_S * 1000
    else:
        proxy.outage()

    def normal() -> None:
        after = proxy.normal()
        for key in ("refused", "dropped", "delayed_chunks"):
            facts[key] = after[key] - before[key]

    return Applied(facts, normal)


def _steal_cpu(fleet: FaultFleet) -> Applied:
    cores = sorted(os.sched_getaffinity(fleet.task_pid(1)))
    busy: list[subprocess.Popen[bytes]] = []
    try:
        for core in cores:
            busy.append(
                subprocess.Popen(
                    [sys.executable, "-S", "-c", "while True: pass"],
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_on_core(core),  # noqa: PLW1509 (dies with us; see fleet/child.py)
                    start_new_session=True,
                )
            )
    except BaseException:
        _end_all(busy, {})
        raise
    facts: dict[str, Any] = {"mechanism": "busy processes, one per core",
                             "cores": cores, "pids": [p.pid for p in busy]}  # fmt: skip
    return Applied(facts, lambda: _end_all(busy, facts))


def _on_core(core: int) -> Callable[[], None]:
    setup = child_setup()

    def pinned() -> None:
        setup()
        os.sched_setaffinity(0, {core})

    return pinned


def _end_all(busy: list[subprocess.Popen[bytes]], facts: dict[str, Any]) -> None:
    """SIGKILL each neighbour; `facts` gains the CPU seconds they took (what they stole)."""
    used = 0.0
    for process in busy:
        try:
            times = psutil.Process(process.pid).cpu_times()
            used += times.user + times.system
        except psutil.Error:
            pass
        process.kill()
        process.wait()
    facts["cpu_seconds"] = round(used, 3)
