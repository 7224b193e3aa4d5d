"""The fleet's live readings for the web UI, from its supervisor's control endpoint.

    source = fleet_source(control_url, balanced)   # None without a supervisor (--host)
    reading = source.read()                # FleetReading, or None when the fleet is silent

Per task CPU and memory come from `/samples` (the latest sampling tick, from the supervisor's
memory: nothing reaches the tasks being measured). Health: with HAProxy in front, HAProxy's view
from `/status` every STATUS_EVERY seconds (asked over HAProxy's stats socket, again nothing to
the tasks); without it (one task, `--lb none`) a task is healthy while the supervisor samples it
as running, so the UI adds no health probe of its own to a measured task.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rightsizer.errors import UnavailableError
from rightsizer.fleet.control_server import SAMPLES_PATH, STATUS_PATH, fetch_status
from rightsizer.fleet.status import FleetStatus
from rightsizer.metrics import names
from rightsizer.numbers import finite_number

STATUS_EVERY = 5.0
FETCH_TIMEOUT = 1.0
Fetch = Callable[[str, float, str], dict[str, Any]]


@dataclass(frozen=True)
class TaskReading:
    """One task at one sampling tick; utilizations in percent of its reservation."""

    id: int | str
    cpu_utilization: float | None
    memory_utilization: float | None
    healthy: bool | None


@dataclass(frozen=True)
class FleetReading:
    """Every task at the supervisor's sampling tick `time` (epoch seconds)."""

    time: float
    tasks: tuple[TaskReading, ...]
    healthy_hosts: int | None


class FleetSource(Protocol):
    """Where the web UI reads the fleet."""

    def read(self) -> FleetReading | None:
        """The newest reading; None when there is none (not sampled yet, not answering)."""
        ...


def task_id(text: str) -> int | str:
    """`"3"` -> 3, as `rightsizer status --json` spells task ids; other ids stay text."""
    return int(text) if text.isascii() and text.isdigit() else text


def reading_from(
    samples: Mapping[str, Any], health: Mapping[int | str, bool] | None
) -> FleetReading | None:
    """A FleetReading from a /samples document; `health` is per task id (HAProxy's view), or
    None: then a task sampled as running counts as healthy."""
    tick = finite_number(samples.get("tick"))
    rows = samples.get("samples")
    if tick is None or not isinstance(rows, list):
        return None
    values: dict[int | str, dict[str, float | None]] = {}
    lb_healthy: float | None = None
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("dimensions"), dict):
            continue
        dims, name, value = row["dimensions"], row.get("name"), finite_number(row.get("value"))
        if name == names.HEALTHY_HOST_COUNT and names.TASK_DIMENSION not in dims:
            lb_healthy = value
        elif name in (names.CPU_UTILIZATION, names.MEMORY_UTILIZATION):
            tid = dims.get(names.TASK_DIMENSION)
            if isinstance(tid, str):
                values.setdefault(task_id(tid), {})[name] = value
    tasks = tuple(
        TaskReading(
            id=tid,
            cpu_utilization=found.get(names.CPU_UTILIZATION),
            memory_utilization=found.get(names.MEMORY_UTILIZATION),
            healthy=True if health is None else health.get(tid),
        )
        for tid, found in sorted(values.items(), key=lambda item: str(item[0]).zfill(12))
    )
    if health is None:
        hosts: int | None = len(tasks)
    else:
        hosts = int(lb_healthy) if lb_healthy is not None else sum(1 for h in health.values() if h)
    return FleetReading(tick, tasks, hosts)


def health_from(status: Mapping[str, Any]) -> dict[int | str, bool]:
    """Task id -> healthy, from a /status document (none from one without a task list)."""
    try:
        return FleetStatus.from_json(status).health()
    except ValueError:
        return {}


class ControlSource:
    """Reads a supervisor at `control_url`; `balanced`: HAProxy runs in front of the tasks."""

    def __init__(
        self,
        control_url: str,
        balanced: bool,
        fetch: Fetch = fetch_status,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = control_url
        self.balanced = balanced
        self._fetch = fetch
        self._clock = clock
        self._health: dict[int | str, bool] = {}
        self._health_at = -math.inf

    def read(self) -> FleetReading | None:
        try:
            samples = self._fetch(self._url, FETCH_TIMEOUT, SAMPLES_PATH)
        except UnavailableError:
            return None
        return reading_from(samples, self._current_health() if self.balanced else None)

    def _current_health(self) -> dict[int | str, bool]:
        now = self._clock()
        if now - self._health_at >= STATUS_EVERY:
            self._health_at = now
            try:
                self._health = health_from(self._fetch(self._url, FETCH_TIMEOUT, STATUS_PATH))
            except UnavailableError:
                self._health = {}  # unknown: shown as such, not as the last good answer
        return self._health


def fleet_source(control_url: str | None, balanced: bool) -> ControlSource | None:
    """The source for a run's target: a fleet it started has a supervisor at `control_url`
    (`balanced`: HAProxy in front of its tasks); a --host has none (None)."""
    if control_url is None:
        return None
    return ControlSource(control_url, balanced=balanced)
