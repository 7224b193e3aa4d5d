"""The tab's data: the /rightsizer/stats document, Locust's table rows, the chart history."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rightsizer.alarms.live import AlarmStatus
from rightsizer.alarms.state import AlarmState
from rightsizer.web.source import FleetReading, TaskReading
from rightsizer.web.stats import Dashboard, History, Reservation
from tests.alarms.helpers import definition

CPU_ALARM = definition(Period=10)


class Readings:
    """A fleet that answers the readings it is given, in turn (None: silent)."""

    def __init__(self, *readings: FleetReading | None) -> None:
        self.readings = list(readings)

    def read(self) -> FleetReading | None:
        return self.readings.pop(0)


def _reading(at: float, cpu: float, healthy: bool | None = True) -> FleetReading:
    tasks = (TaskReading(1, cpu, 10.0, healthy), TaskReading(2, None, None, False))
    return FleetReading(at, tasks, 1)


def _states(*statuses: AlarmStatus) -> Sequence[AlarmStatus]:
    return list(statuses)


ALARM = AlarmStatus("cpu-high", AlarmState.ALARM, "Threshold Crossed: 1 datapoint", 100.0)


def test_the_document_has_the_contract_keys_and_what_the_charts_need() -> None:
    board = Dashboard(
        Readings(_reading(100.0, 37.123)),
        lambda: _states(ALARM),
        [CPU_ALARM],
        Reservation(0.25, 512),
    )
    board.update()
    doc = board.document(101.0)
    json.dumps(doc)  # JSON-ready
    assert doc["tasks"] == [
        {"id": 1, "cpu_utilization": 37.12, "memory_utilization": 10.0, "healthy": True},
        {"id": 2, "cpu_utilization": None, "memory_utilization": None, "healthy": False},
    ]
    assert [{k: a[k] for k in ("name", "state", "reason")} for a in doc["alarms"]] == [
        {"name": "cpu-high", "state": "ALARM", "reason": "Threshold Crossed: 1 datapoint"}
    ]
    alarm = doc["alarms"][0]
    assert (alarm["metric"], alarm["threshold"], alarm["comparison"]) == (
        "CPUUtilization", 20.0, "GreaterThanThreshold",
    )  # fmt: skip
    assert alarm["since"] == 100.0
    assert doc["healthy_hosts"] == 1
    assert doc["reservation"] == {"cpu": 0.25, "memory_mb": 512}
    assert doc["sampled_at"] == 100.0 and doc["time"] == 101.0
    assert doc["series"]["1"] == {"t": [100.0], "cpu": [37.12], "memory": [10.0]}


def test_without_a_fleet_only_the_alarms_show() -> None:
    unknown = AlarmStatus("p95", AlarmState.INSUFFICIENT_DATA, "", None)
    board = Dashboard(None, lambda: _states(unknown))
    assert board.update() is None
    doc = board.document(5.0)
    assert doc["tasks"] == [] and doc["series"] == {} and doc["healthy_hosts"] is None
    assert doc["alarms"] == [
        {"name": "p95", "state": "INSUFFICIENT_DATA", "reason": "", "since": None}
    ]
    assert board.table_rows() == [
        {"name": "alarm p95", "cpu": "", "memory": "", "state": "INSUFFICIENT_DATA", "detail": ""}
    ]


def test_a_silent_or_repeated_tick_keeps_the_last_reading_once() -> None:
    board = Dashboard(
        Readings(_reading(100.0, 30.0), None, _reading(100.0, 30.0), _reading(101.0, 50.0)),
        lambda: [],
    )
    for _ in range(4):
        board.update()
    assert board.document(102.0)["series"]["1"]["cpu"] == [30.0, 50.0]
    assert board.document(102.0)["tasks"][0]["cpu_utilization"] == 50.0


def test_history_keeps_the_last_seconds_and_forgets_gone_tasks() -> None:
    history = History(seconds=10.0)
    history.add(FleetReading(0.0, (TaskReading(1, 1.0, 1.0, True),), 1))
    history.add(FleetReading(5.0, (TaskReading(2, 2.0, 2.0, True),), 1))
    history.add(FleetReading(12.0, (TaskReading(2, 3.0, None, True),), 1))
    assert history.document() == {"2": {"t": [5.0, 12.0], "cpu": [2.0, 3.0], "memory": [2.0, None]}}


def test_table_rows_for_locusts_tab() -> None:
    board = Dashboard(
        Readings(_reading(100.0, 81.25, healthy=None)),
        lambda: _states(ALARM),
        [CPU_ALARM],
        Reservation(0.25, 512),
    )
    board.update()
    assert board.table_rows() == [
        {"name": "task 1", "cpu": "81.2 %", "memory": "10.0 %", "state": "unknown",
         "detail": "of 0.25 vCPU, 512 MiB"},
        {"name": "task 2", "cpu": "-", "memory": "-", "state": "unhealthy",
         "detail": "of 0.25 vCPU, 512 MiB"},
        {"name": "healthy hosts", "cpu": "", "memory": "", "state": "1 of 2", "detail": ""},
        {"name": "alarm cpu-high", "cpu": "", "memory": "", "state": "ALARM",
         "detail": "Threshold Crossed: 1 datapoint"},
    ]  # fmt: skip


def test_the_live_line_s_task_cpu_comes_from_the_newest_reading() -> None:
    board = Dashboard(Readings(_reading(100.0, 40.0), None), _states)
    assert board.task_cpu() is None  # nothing read yet
    board.update()
    assert board.task_cpu() == 40.0  # task 2 has no CPU figure: the mean of the known ones
    board.update()  # the fleet is silent: the newest reading stays
    assert board.task_cpu() == 40.0
