"""The status document: built from a fleet's snapshot, read back as `FleetStatus`."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightsizer.errors import UnavailableError
from rightsizer.fleet.haproxy_config import BACKEND
from rightsizer.fleet.scheduler import StoppedTask
from rightsizer.fleet.status import (
    FleetSnapshot,
    FleetStatus,
    TaskFacts,
    TaskRow,
    state_document,
    status,
)
from rightsizer.fleet.task import TaskState
from rightsizer.metrics.recent import Recent
from rightsizer.metrics.store import MetricKey, Sample

STOPPED = StoppedTask(1, 1, 100, 9001, -9, "OutOfMemoryError", True, 5.0, 9.0)


def snapshot(lb_rows: list[dict[str, str]] | None, recent: Recent | None = None) -> FleetSnapshot:
    def lb_stats() -> list[dict[str, str]]:
        if lb_rows is None:
            raise UnavailableError("HAProxy is not answering")
        return lb_rows

    return FleetSnapshot(
        started=True,
        url="http://127.0.0.1:8080",
        tasks=(
            TaskFacts(2, 200, 9002, 1, TaskState.RUNNING),
            TaskFacts(3, 300, 9003, 2, TaskState.STARTING),
        ),
        stopped=(STOPPED,),
        capped=True,
        cpu=0.25,
        memory_mb=512,
        service="uploader",
        health_path="/healthz",
        recent=recent,
        lb_stats=lb_stats,
        haproxy_pid=42,
        control_url="http://127.0.0.1:5",
        name="rs-1",
        cgroup_version=2,
        groups=("/sys/fs/cgroup/rs-1",),
        warnings=(),
        workdir=Path("/tmp/fleet"),
    )


def test_the_status_counts_what_haproxy_sees_up_and_averages_recent_samples() -> None:
    recent = Recent()
    key = MetricKey.of("CPUUtilization", ServiceName="uploader", TaskId="2")
    recent.add(10.0, [Sample(key, 9.5, 40.0)])
    recent.add(11.0, [Sample(key, 10.5, 60.0)])
    rows = [
        {"pxname": BACKEND, "svname": "t1", "status": "UP"},
        {"pxname": BACKEND, "svname": "t2", "status": "UP"},  # task 3 still starting
    ]
    built = status(snapshot(rows, recent))
    assert built.healthy_hosts == 1 and built.health() == {2: True, 3: False}
    assert built.tasks[0] == TaskRow(2, 200, 9002, True, 50.0, None, 0, 1, "running")
    assert built.stopped_tasks[0].id == 1 and built.stopped_tasks[0].reason == STOPPED.reason
    document = built.to_json()
    assert list(document) == [
        "url", "healthy_hosts", "tasks", "stopped_tasks", "capped", "cpu", "memory",
    ]  # fmt: skip
    assert document["stopped_tasks"][0]["oom"] is True
    assert FleetStatus.from_json(document) == built


def test_haproxy_not_answering_means_no_task_is_counted_healthy() -> None:
    assert status(snapshot(None)).healthy_hosts == 0


def test_a_fleet_not_started_has_an_empty_status() -> None:
    empty = FleetSnapshot(
        False, None, (), (), False, 0.25, 512, "s", "/", None, None, None, None, "n", None, (),
        (), Path("/tmp"),
    )  # fmt: skip
    assert status(empty).to_json() == {
        "url": None, "healthy_hosts": 0, "tasks": [], "stopped_tasks": [],
    }  # fmt: skip


def test_the_state_document_comes_from_the_snapshot() -> None:
    document = state_document(snapshot([]), "HAProxy 2.6")
    assert document["tasks"] == [
        {"id": 2, "pid": 200, "port": 9002, "slot": 1},
        {"id": 3, "pid": 300, "port": 9003, "slot": 2},
    ]
    assert (document["haproxy"], document["haproxy_pid"], document["cgroup_version"]) == (
        "HAProxy 2.6",
        42,
        2,
    )


def test_a_status_read_back_keeps_what_makes_sense() -> None:
    read = FleetStatus.from_json(
        {"tasks": [{"id": 1, "pid": "x", "healthy": 1}, 7, {"id": None}], "stopped_tasks": ["x"]}
    )
    assert read.url is None and read.healthy_hosts is None and read.capped is None
    assert read.tasks == (TaskRow(1, healthy=True),) and read.stopped_tasks == ()
    with pytest.raises(ValueError, match="no task list"):
        FleetStatus.from_json({"url": "http://127.0.0.1:1", "tasks": "none"})
