"""What the "Tasks & alarms" tab shows: the JSON of /rightsizer/stats, the rows of Locust's
tab table, and a short history of every task for the live charts.

    board = Dashboard(fleet_source(url, True), watch_states, alarms, Reservation(0.25, 512))
    board.update()                 # once a second: the fleet's newest reading into the history
    board.document(time.time())    # {"tasks": [...], "alarms": [...], "healthy_hosts", ...}

Pure: readings and alarm states in, documents out; no Locust, no Flask.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.live import AlarmStatus
from rightsizer.web.source import FleetReading, FleetSource, TaskReading

HISTORY_SECONDS = 600.0  # what the charts can show: the last ten minutes
TAB_KEY = "rightsizer"
TAB_TITLE = "Tasks & alarms"
# Locust's tab table: one row per task, one for the healthy hosts, one per alarm.
TAB_COLUMNS = (
    ("name", "Task / alarm"),
    ("cpu", "CPU % of reservation"),
    ("memory", "Memory %"),
    ("state", "Health / state"),
    ("detail", "Detail"),
)


@dataclass(frozen=True)
class Reservation:
    """What each task reserves: the 100% of its utilizations."""

    cpu: float
    memory_mb: int


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


class History:
    """Per task, the readings of the last `seconds` (time, CPU %, memory %)."""

    def __init__(self, seconds: float = HISTORY_SECONDS) -> None:
        self.seconds = seconds
        self._points: dict[int | str, deque[tuple[float, float | None, float | None]]] = {}

    def add(self, reading: FleetReading) -> None:
        for task in reading.tasks:
            points = self._points.setdefault(task.id, deque())
            points.append((reading.time, task.cpu_utilization, task.memory_utilization))
        for points in self._points.values():
            while points and points[0][0] < reading.time - self.seconds:
                points.popleft()
        for tid in [tid for tid, points in self._points.items() if not points]:
            del self._points[tid]

    def document(self) -> dict[str, dict[str, list[float | None]]]:
        """`{task id: {"t": [...], "cpu": [...], "memory": [...]}}`, oldest first."""
        return {
            str(tid): {
                "t": [round(p[0], 3) for p in points],
                "cpu": [_rounded(p[1]) for p in points],
                "memory": [_rounded(p[2]) for p in points],
            }
            for tid, points in self._points.items()
        }


def task_json(task: TaskReading) -> dict[str, Any]:
    return {
        "id": task.id,
        "cpu_utilization": _rounded(task.cpu_utilization),
        "memory_utilization": _rounded(task.memory_utilization),
        "healthy": task.healthy,
    }


def alarm_json(status: AlarmStatus, definition: AlarmDefinition | None) -> dict[str, Any]:
    """An alarm's state, and what its threshold line needs (metric, threshold, comparison)."""
    doc: dict[str, Any] = {
        "name": status.name,
        "state": status.state.value,
        "reason": status.reason,
        "since": status.since,
    }
    if definition is not None:
        doc["metric"] = definition.metric_name
        doc["statistic"] = definition.statistic.name
        doc["period"] = definition.period
        doc["threshold"] = definition.threshold
        doc["comparison"] = definition.comparison.value
    return doc


def _health_word(healthy: bool | None) -> str:
    return {True: "healthy", False: "unhealthy", None: "unknown"}[healthy]


class Dashboard:
    """The tab's data: the newest fleet reading, its history, the alarms' states."""

    def __init__(
        self,
        source: FleetSource | None,
        alarm_states: Callable[[], Sequence[AlarmStatus]],
        alarms: Sequence[AlarmDefinition] = (),
        reservation: Reservation | None = None,
        history: History | None = None,
    ) -> None:
        self._source = source
        self._alarm_states = alarm_states
        self._definitions = {alarm.name: alarm for alarm in alarms}
        self.reservation = reservation
        self.history = history or History()
        self.latest: FleetReading | None = None

    def update(self) -> FleetReading | None:
        """Read the fleet once; a new sampling tick goes into the history."""
        if self._source is None:
            return None
        reading = self._source.read()
        if reading is not None and (self.latest is None or reading.time > self.latest.time):
            self.latest = reading
            self.history.add(reading)
        return reading

    def task_cpu(self) -> float | None:
        """The tasks' mean CPUUtilization at the newest reading (the live line's "task CPU",
        from the reading the tab polls anyway rather than a second fetch)."""
        values = [t.cpu_utilization for t in (self.latest.tasks if self.latest else ())]
        known = [v for v in values if v is not None]
        return math.fsum(known) / len(known) if known else None

    def document(self, now: float) -> dict[str, Any]:
        """The /rightsizer/stats JSON (see the module docstring of rightsizer.web.blueprint)."""
        latest = self.latest
        return {
            "time": now,
            "sampled_at": latest.time if latest else None,
            "tasks": [task_json(task) for task in (latest.tasks if latest else ())],
            "alarms": [
                alarm_json(status, self._definitions.get(status.name))
                for status in self._alarm_states()
            ],
            "healthy_hosts": latest.healthy_hosts if latest else None,
            "reservation": None
            if self.reservation is None
            else {"cpu": self.reservation.cpu, "memory_mb": self.reservation.memory_mb},
            "series": self.history.document(),
        }

    def table_rows(self) -> list[dict[str, str]]:
        """Rows for Locust's tab table (its `extended_stats`): text, shown as it is."""
        rows = []
        latest = self.latest
        share = ""
        if self.reservation is not None:
            share = f"of {self.reservation.cpu:g} vCPU, {self.reservation.memory_mb} MiB"
        for task in latest.tasks if latest else ():
            rows.append(
                {
                    "name": f"task {task.id}",
                    "cpu": _percent(task.cpu_utilization),
                    "memory": _percent(task.memory_utilization),
                    "state": _health_word(task.healthy),
                    "detail": share,
                }
            )
        if latest is not None and latest.healthy_hosts is not None:
            hosts = f"{latest.healthy_hosts} of {len(latest.tasks)}"
            rows.append(self._row("healthy hosts", hosts, ""))
        for status in self._alarm_states():
            rows.append(self._row(f"alarm {status.name}", status.state.value, status.reason))
        return rows

    @staticmethod
    def _row(name: str, state: str, detail: str) -> dict[str, str]:
        return {"name": name, "cpu": "", "memory": "", "state": state, "detail": detail}
