"""The fleet seen from outside: the status document (`FleetStatus`) and the state document.

Status (`rightsizer status --json`, `GET /status`):

    {"url": ..., "healthy_hosts": n,
     "tasks": [{"id", "pid", "port", "healthy", "cpu_utilization", "memory_utilization",
                "throttled_periods", "slot", "state"}],
     "stopped_tasks": [{"id", "exit_code", "reason", "oom", ...}], "capped", "cpu", "memory"}

Utilizations are percent of the reservation, averaged over the last `WINDOW` seconds of samples
(None until a task has two readings); throttled_periods is the sum over that window. Both
documents are built from a `FleetSnapshot` (`Fleet.snapshot()`), never from the live fleet, and
the status is read back (`rightsizer status`, the web UI's health) with `FleetStatus.from_json`:

    status = FleetStatus.from_json(fetch_status(control_url))   # ValueError: no task list
    status.tasks[0].cpu_utilization, status.health()
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rightsizer.errors import UnavailableError
from rightsizer.fleet.haproxy_config import BACKEND, server_name
from rightsizer.fleet.health import probe
from rightsizer.fleet.scheduler import StoppedTask
from rightsizer.fleet.task import TaskState
from rightsizer.metrics import names
from rightsizer.metrics.haproxy_sampler import is_healthy
from rightsizer.metrics.recent import Recent
from rightsizer.metrics.store import MetricKey
from rightsizer.numbers import finite_number
from rightsizer.process import start_time

WINDOW = 5.0


@dataclass(frozen=True)
class TaskFacts:
    """One task as the fleet saw it at the snapshot."""

    id: int
    pid: int
    port: int
    slot: int
    state: TaskState


@dataclass(frozen=True)
class FleetSnapshot:
    """What the status and state documents need of a fleet, taken at one moment
    (`Fleet.snapshot()`). `started` is False before the fleet's scheduler exists; `lb_stats`
    asks HAProxy for its `show stat` rows (None without HAProxy)."""

    started: bool
    url: str | None
    tasks: tuple[TaskFacts, ...]
    stopped: tuple[StoppedTask, ...]
    capped: bool
    cpu: float
    memory_mb: int
    service: str
    health_path: str
    recent: Recent | None
    lb_stats: Callable[[], list[dict[str, str]]] | None
    haproxy_pid: int | None
    control_url: str | None
    name: str
    cgroup_version: int | None
    groups: tuple[str, ...]
    warnings: tuple[str, ...]
    workdir: Path
    lb_socket: Path | None = None  # HAProxy's admin socket (the runtime API), None without


@dataclass(frozen=True)
class TaskRow:
    """One task in the status document; None where the supervisor did not say."""

    id: int | str
    pid: int | None = None
    port: int | None = None
    healthy: bool = False
    cpu_utilization: float | None = None
    memory_utilization: float | None = None
    throttled_periods: int | None = None
    slot: int | None = None
    state: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pid": self.pid,
            "port": self.port,
            "healthy": self.healthy,
            "cpu_utilization": self.cpu_utilization,
            "memory_utilization": self.memory_utilization,
            "throttled_periods": self.throttled_periods,
            "slot": self.slot,
            "state": self.state,
        }

    @classmethod
    def from_json(cls, raw: Any) -> TaskRow | None:
        """A row of "tasks"; None for one that is not an object with an id."""
        if not isinstance(raw, Mapping):
            return None
        task_id = raw.get("id")
        if isinstance(task_id, bool) or not isinstance(task_id, int | str):
            return None
        state = raw.get("state")
        return cls(
            id=task_id,
            pid=_whole(raw.get("pid")),
            port=_whole(raw.get("port")),
            healthy=bool(raw.get("healthy")),
            cpu_utilization=finite_number(raw.get("cpu_utilization")),
            memory_utilization=finite_number(raw.get("memory_utilization")),
            throttled_periods=_whole(raw.get("throttled_periods")),
            slot=_whole(raw.get("slot")),
            state=state if isinstance(state, str) else None,
        )


@dataclass(frozen=True)
class StoppedRow:
    """A task that ended, in the status document ("stopped_tasks": StoppedTask's fields)."""

    id: int | None
    reason: str | None
    fields: Mapping[str, Any]  # every field the supervisor sent (exit_code, oom, times, ...)

    def to_json(self) -> dict[str, Any]:
        return dict(self.fields)

    @classmethod
    def from_json(cls, raw: Any) -> StoppedRow | None:
        if not isinstance(raw, Mapping):
            return None
        reason = raw.get("reason")
        return cls(_whole(raw.get("id")), reason if isinstance(reason, str) else None, raw)

    @classmethod
    def of(cls, stopped: StoppedTask) -> StoppedRow:
        return cls(stopped.id, stopped.reason, asdict(stopped))


@dataclass(frozen=True)
class FleetStatus:
    """The status document. `capped`, `cpu` and `memory` are None (and left out of the JSON)
    before the fleet's tasks exist."""

    url: str | None
    healthy_hosts: int | None  # None: the supervisor did not say
    tasks: tuple[TaskRow, ...] = ()
    stopped_tasks: tuple[StoppedRow, ...] = ()
    capped: bool | None = None
    cpu: float | None = None
    memory: int | None = None

    def health(self) -> dict[int | str, bool]:
        """Task id -> healthy."""
        return {task.id: task.healthy for task in self.tasks}

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "url": self.url,
            "healthy_hosts": self.healthy_hosts,
            "tasks": [task.to_json() for task in self.tasks],
            "stopped_tasks": [stopped.to_json() for stopped in self.stopped_tasks],
        }
        for key, value in (("capped", self.capped), ("cpu", self.cpu), ("memory", self.memory)):
            if value is not None:
                document[key] = value
        return document

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FleetStatus:
        """Parse a status document; ValueError when it has no task list (not a status)."""
        rows = raw.get("tasks")
        if not isinstance(rows, list):
            raise ValueError("no task list")
        stopped = raw.get("stopped_tasks")
        url, capped = raw.get("url"), raw.get("capped")
        return cls(
            url=url if isinstance(url, str) else None,
            healthy_hosts=_whole(raw.get("healthy_hosts")),
            tasks=tuple(row for row in map(TaskRow.from_json, rows) if row is not None),
            stopped_tasks=tuple(
                row
                for row in map(StoppedRow.from_json, stopped if isinstance(stopped, list) else ())
                if row is not None
            ),
            capped=capped if isinstance(capped, bool) else None,
            cpu=finite_number(raw.get("cpu")),
            memory=_whole(raw.get("memory")),
        )


def status(fleet: FleetSnapshot) -> FleetStatus:
    if not fleet.started:
        return FleetStatus(url=None, healthy_hosts=0)
    healthy = _healthy(fleet)
    rows = tuple(_task_row(fleet, task, healthy.get(task.slot, False)) for task in fleet.tasks)
    return FleetStatus(
        url=fleet.url,
        healthy_hosts=sum(1 for row in rows if row.healthy),
        tasks=rows,
        stopped_tasks=tuple(StoppedRow.of(s) for s in fleet.stopped),
        capped=fleet.capped,
        cpu=fleet.cpu,
        memory=fleet.memory_mb,
    )


def _task_row(fleet: FleetSnapshot, task: TaskFacts, healthy: bool) -> TaskRow:
    recent = fleet.recent
    dims = {names.SERVICE_DIMENSION: fleet.service, names.TASK_DIMENSION: str(task.id)}

    def mean(name: str) -> float | None:
        value = recent.mean(MetricKey.of(name, **dims), WINDOW) if recent else None
        return None if value is None else round(value, 1)

    key = MetricKey.of(names.CPU_THROTTLED_PERIODS, **dims)
    throttled = recent.values(key, WINDOW) if recent else []
    return TaskRow(
        id=task.id,
        pid=task.pid,
        port=task.port,
        healthy=healthy,
        cpu_utilization=mean(names.CPU_UTILIZATION),
        memory_utilization=mean(names.MEMORY_UTILIZATION),
        throttled_periods=int(sum(throttled)),
        slot=task.slot,
        state=task.state.value,
    )


def _healthy(fleet: FleetSnapshot) -> dict[int, bool]:
    """slot -> healthy: HAProxy's view when it runs, else our own health check."""
    tasks = fleet.tasks
    if fleet.lb_stats is None:
        return {
            t.slot: t.state is TaskState.RUNNING and probe(t.port, fleet.health_path) for t in tasks
        }
    try:
        rows = fleet.lb_stats()
    except UnavailableError:
        return {}
    up = {
        r.get("svname")
        for r in rows
        if r.get("pxname") == BACKEND and is_healthy(r.get("status") or "")
    }
    return {t.slot: server_name(t.slot) in up and t.state is TaskState.RUNNING for t in tasks}


def state_document(fleet: FleetSnapshot, haproxy_version: str | None) -> dict[str, Any]:
    """The `--state-file` / `.rightsizer/fleet.json` contents."""
    assert fleet.started
    return {
        "url": fleet.url,
        "pid": os.getpid(),
        "pid_created": start_time(os.getpid()),
        "control_url": fleet.control_url,
        "name": fleet.name,
        "tasks": [{"id": t.id, "pid": t.pid, "port": t.port, "slot": t.slot} for t in fleet.tasks],
        "cgroup_version": fleet.cgroup_version,
        "capped": fleet.capped,
        "cpu": fleet.cpu,
        "memory": fleet.memory_mb,
        "haproxy": haproxy_version if fleet.haproxy_pid is not None else None,
        "haproxy_pid": fleet.haproxy_pid,
        "haproxy_socket": str(fleet.lb_socket) if fleet.lb_socket is not None else None,
        "groups": list(fleet.groups),
        "warnings": list(fleet.warnings),
        "workdir": str(fleet.workdir),
    }


def _whole(raw: Any) -> int | None:
    value = finite_number(raw)
    return int(value) if value is not None and value.is_integer() else None
