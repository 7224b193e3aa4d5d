"""The fleet seen from outside: the status JSON and the state document.

Status (`rightsizer status --json`, `GET /status`):

    {"url": ..., "healthy_hosts": n,
     "tasks": [{"id", "pid", "port", "healthy", "cpu_utilization", "memory_utilization",
                "throttled_periods", "slot", "state"}],
     "stopped_tasks": [{"id", "exit_code", "reason", "oom", ...}], "capped": bool, ...}

Utilizations are percent of the reservation, averaged over the last `WINDOW` seconds of samples
(None until a task has two readings); throttled_periods is the sum over that window.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rightsizer.errors import UnavailableError
from rightsizer.fleet.haproxy_config import BACKEND, server_name
from rightsizer.fleet.health import probe
from rightsizer.fleet.task import Task, TaskState
from rightsizer.metrics import names
from rightsizer.metrics.haproxy_sampler import is_healthy
from rightsizer.metrics.store import MetricKey
from rightsizer.process import start_time

if TYPE_CHECKING:
    from rightsizer.fleet.fleet import Fleet

WINDOW = 5.0


def status(fleet: Fleet) -> dict[str, Any]:
    scheduler = fleet.scheduler
    if scheduler is None:
        return {"url": None, "healthy_hosts": 0, "tasks": [], "stopped_tasks": []}
    tasks = scheduler.tasks()
    healthy = _healthy(fleet, tasks)
    rows = [_task_row(fleet, task, healthy.get(task.slot, False)) for task in tasks]
    return {
        "url": scheduler.url,
        "healthy_hosts": sum(1 for row in rows if row["healthy"]),
        "tasks": rows,
        "stopped_tasks": [asdict(s) for s in scheduler.stopped],
        "capped": fleet.capped,
        "cpu": fleet.spec.cpu,
        "memory": fleet.spec.memory_mb,
    }


def _task_row(fleet: Fleet, task: Task, healthy: bool) -> dict[str, Any]:
    recent = fleet.sampling.recent if fleet.sampling is not None else None
    dims = {names.SERVICE_DIMENSION: fleet.spec.service, names.TASK_DIMENSION: str(task.id)}

    def mean(name: str) -> float | None:
        value = recent.mean(MetricKey.of(name, **dims), WINDOW) if recent else None
        return None if value is None else round(value, 1)

    key = MetricKey.of(names.CPU_THROTTLED_PERIODS, **dims)
    throttled = recent.values(key, WINDOW) if recent else []
    return {
        "id": task.id,
        "pid": task.pid,
        "port": task.port,
        "healthy": healthy,
        "cpu_utilization": mean(names.CPU_UTILIZATION),
        "memory_utilization": mean(names.MEMORY_UTILIZATION),
        "throttled_periods": int(sum(throttled)),
        "slot": task.slot,
        "state": task.state.value,
    }


def _healthy(fleet: Fleet, tasks: list[Task]) -> dict[int, bool]:
    """slot -> healthy: HAProxy's view when it runs, else our own health check."""
    scheduler = fleet.scheduler
    assert scheduler is not None
    if scheduler.haproxy is None:
        return {
            t.slot: t.state is TaskState.RUNNING and probe(t.port, fleet.spec.health_path)
            for t in tasks
        }
    try:
        rows = scheduler.haproxy.api.show_stat()
    except UnavailableError:
        return {}
    up = {
        r.get("svname")
        for r in rows
        if r.get("pxname") == BACKEND and is_healthy(r.get("status") or "")
    }
    return {t.slot: server_name(t.slot) in up and t.state is TaskState.RUNNING for t in tasks}


def state_document(fleet: Fleet, haproxy_version: str | None) -> dict[str, Any]:
    """The `--state-file` / `.rightsizer/fleet.json` contents."""
    scheduler = fleet.scheduler
    assert scheduler is not None and fleet.choice is not None
    proxy = scheduler.haproxy
    return {
        "url": scheduler.url,
        "pid": os.getpid(),
        "pid_created": start_time(os.getpid()),
        "control_url": fleet.control.url if fleet.control else None,
        "name": fleet.name,
        "tasks": [
            {"id": t.id, "pid": t.pid, "port": t.port, "slot": t.slot} for t in scheduler.tasks()
        ],
        "cgroup_version": fleet.choice.version.value if fleet.choice.version else None,
        "capped": fleet.capped,
        "cpu": fleet.spec.cpu,
        "memory": fleet.spec.memory_mb,
        "haproxy": haproxy_version if proxy is not None else None,
        "haproxy_pid": proxy.pid if proxy is not None else None,
        "groups": [str(p) for p in fleet.choice.driver.parent_dirs()],
        "warnings": list(fleet.warnings),
        "workdir": str(fleet.spec.workdir),
    }
