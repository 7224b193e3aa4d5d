"""The fleet's readings for the web UI: from a real control server, and health throttling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rightsizer.errors import UnavailableError
from rightsizer.fleet.control_server import SAMPLES_PATH, STATUS_PATH, ControlServer
from rightsizer.metrics import names
from rightsizer.metrics.prometheus import private_registry
from rightsizer.metrics.recent import Recent
from rightsizer.metrics.store import MetricKey, Sample
from rightsizer.web.source import (
    STATUS_EVERY,
    ControlSource,
    TaskReading,
    fleet_source,
    health_from,
    reading_from,
    task_id,
)

SERVICE = {"ServiceName": "uploader"}


def _sample(name: str, value: float, task: str | None = None, lb: bool = False) -> Sample:
    dims = {"LoadBalancer": "rightsizer-lb"} if lb else dict(SERVICE)
    if task is not None:
        dims["TaskId"] = task
    return Sample(MetricKey.of(name, **dims), 9.5, value, "Percent")


def _tick(recent: Recent, at: float) -> None:
    recent.add(
        at,
        [
            _sample(names.CPU_UTILIZATION, 30.0, "1"),
            _sample(names.CPU_UTILIZATION, 95.5, "2"),
            _sample(names.CPU_UTILIZATION, 30.0),  # service level: not a task
            _sample(names.MEMORY_UTILIZATION, 12.0, "1"),
            _sample(names.MEMORY_UTILIZATION, 14.0, "2"),
            _sample(names.CPU_THROTTLED_PERIODS, 3.0, "2"),
            _sample(names.HEALTHY_HOST_COUNT, 1.0, lb=True),
        ],
    )


@pytest.fixture
def control() -> Iterator[tuple[ControlServer, Recent, list[int]]]:
    recent, status_calls = Recent(), []

    def status() -> dict[str, Any]:
        status_calls.append(1)
        return {"tasks": [{"id": 1, "healthy": True}, {"id": 2, "healthy": False}]}

    server = ControlServer(private_registry(recent), status, recent)
    server.start()
    try:
        yield server, recent, status_calls
    finally:
        server.stop()


def test_a_fleet_without_haproxy_reads_samples_only(
    control: tuple[ControlServer, Recent, list[int]],
) -> None:
    server, recent, status_calls = control
    source = ControlSource(server.url, balanced=False)
    assert source.read() is None  # nothing sampled yet
    _tick(recent, 10.0)
    reading = source.read()
    assert reading is not None
    assert reading.time == 10.0
    assert reading.tasks == (
        TaskReading(1, 30.0, 12.0, True),
        TaskReading(2, 95.5, 14.0, True),
    )
    assert reading.healthy_hosts == 2
    assert status_calls == []  # no health probe of a measured task


def test_behind_haproxy_health_comes_from_status_at_most_every_few_seconds(
    control: tuple[ControlServer, Recent, list[int]],
) -> None:
    server, recent, status_calls = control
    now = [100.0]
    source = ControlSource(server.url, balanced=True, clock=lambda: now[0])
    _tick(recent, 10.0)
    for _ in range(3):
        reading = source.read()
    assert reading is not None
    assert [t.healthy for t in reading.tasks] == [True, False]
    assert reading.healthy_hosts == 1  # HAProxy's HealthyHostCount
    assert len(status_calls) == 1
    now[0] += STATUS_EVERY
    source.read()
    assert len(status_calls) == 2


def test_a_silent_supervisor_gives_no_reading() -> None:
    def fetch(url: str, timeout: float, path: str) -> dict[str, Any]:
        raise UnavailableError("no")

    assert ControlSource("http://127.0.0.1:1", balanced=True, fetch=fetch).read() is None


def test_health_unknown_when_status_fails_but_samples_answer() -> None:
    def fetch(url: str, timeout: float, path: str) -> dict[str, Any]:
        if path == STATUS_PATH:
            raise UnavailableError("busy")
        assert path == SAMPLES_PATH
        return {"tick": 5.0, "samples": [_row(names.CPU_UTILIZATION, "7", 40.0)]}

    reading = ControlSource("http://x", balanced=True, fetch=fetch).read()
    assert reading is not None
    assert reading.tasks == (TaskReading(7, 40.0, None, None),)
    assert reading.healthy_hosts == 0


def _row(name: str, task: str, value: Any) -> dict[str, Any]:
    return {"name": name, "dimensions": {**SERVICE, "TaskId": task}, "value": value}


def test_broken_documents_are_skipped_not_fatal() -> None:
    assert reading_from({"tick": None, "samples": []}, None) is None
    assert reading_from({"tick": 1.0, "samples": "x"}, None) is None
    doc = {
        "tick": 1.0,
        "samples": [
            "junk",
            {"name": names.CPU_UTILIZATION, "dimensions": "x", "value": 1.0},
            _row(names.CPU_UTILIZATION, "10", float("nan")),
            _row(names.CPU_UTILIZATION, "9", True),
            _row(names.MEMORY_UTILIZATION, "9", 5.0),
        ],
    }
    reading = reading_from(doc, None)
    assert reading is not None
    assert reading.tasks == (TaskReading(9, None, 5.0, True), TaskReading(10, None, None, True))
    assert health_from({"tasks": [{"id": 1}, "x", {"id": None}]}) == {1: False}


def test_task_ids_read_as_status_spells_them() -> None:
    assert task_id("12") == 12
    assert task_id("web-1") == "web-1"


def test_only_a_fleet_with_a_supervisor_has_a_source() -> None:
    balanced = fleet_source("http://127.0.0.1:5", balanced=True)
    assert isinstance(balanced, ControlSource) and balanced.balanced
    direct = fleet_source("http://127.0.0.1:5", balanced=False)
    assert isinstance(direct, ControlSource) and not direct.balanced
    assert fleet_source(None, balanced=True) is None  # --host: no supervisor of ours
