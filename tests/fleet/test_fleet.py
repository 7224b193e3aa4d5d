"""A fleet on this machine: real cgroups, real HAProxy, real processes."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rightsizer.fleet.control_server import SAMPLES_PATH, fetch_status, task_average
from rightsizer.fleet.fleet import Fleet
from rightsizer.fleet.spec import Balancing
from rightsizer.fleet.task import OOM_REASON
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, MetricStore
from rightsizer.process import running
from tests.fleet.conftest import task_command
from tests.parts import fail_without
from tests.waiting import poll_until as _wait

pytestmark = [pytest.mark.cgroups, pytest.mark.haproxy]


def _task_key(name: str, task_id: int | str) -> MetricKey:
    return MetricKey.of(name, ServiceName=names.DEFAULT_SERVICE, TaskId=str(task_id))


def _require_caps(fleet: Fleet) -> None:
    if not fleet.capped:
        fail_without("cgroups", fleet.warnings)


def test_a_burner_cannot_exceed_its_quota(fleet_factory: Callable[..., Fleet]) -> None:
    fleet = fleet_factory(cpu=0.25, balancing=Balancing.NONE, command=task_command("--spin", "2"))
    _require_caps(fleet)
    assert fleet.scheduler is not None
    (task,) = fleet.scheduler.tasks()
    used0, t0 = task.group.usage_ns(), time.monotonic()
    time.sleep(3.0)  # the window the quota is measured over: the sleep is the test
    used = (task.group.usage_ns() - used0) / 1e9
    wall = time.monotonic() - t0
    # Two busy processes want two cores; the group gets 0.25 of one.
    assert used / wall <= 0.25 * 1.05
    assert used / wall >= 0.25 * 0.5  # and it did run
    assert task.group.throttled() > 0


def test_a_burner_at_half_its_reservation_reads_50_percent(
    fleet_factory: Callable[..., Fleet], tmp_path: Path
) -> None:
    store = MetricStore(tmp_path / "metrics.db")
    fleet = fleet_factory(
        cpu=0.25, store=store, command=task_command("--burn", "0.5", "--cpu", "0.25")
    )
    _require_caps(fleet)
    key = _task_key(names.CPU_UTILIZATION, 1)
    # The burner uses its CPU in bursts (12.5 ms each 100 ms): one second holds 10 bursts, give
    # or take one, so a single reading may be 45 or 55. Eight contiguous seconds hold 80 +- 1.
    _wait(lambda: len(store.samples(key)) >= 9, 30, "nine one-second samples")
    samples = store.samples(key)[-8:]
    values = [v for _, v in samples]
    average = sum(values) / len(values)
    assert abs(average - 50) <= 3, values
    # Service level: one sample per task per tick, the same values here (one task).
    service = store.samples(MetricKey.of(names.CPU_UTILIZATION, ServiceName="uploader"))
    assert [v for t, v in service if t >= samples[0][0]][:8] == values
    # Timestamps at the middle of each one-second interval.
    assert all(abs((t % 1.0) - 0.5) < 1e-6 for t, _ in samples)
    status = fleet.status()  # the last five seconds: a coarser figure
    cpu, memory = status.tasks[0].cpu_utilization, status.tasks[0].memory_utilization
    assert cpu is not None and abs(cpu - 50) <= 6
    assert memory is not None and 0 < memory < 20
    fleet.stop()
    store.close()


def test_a_task_over_its_memory_limit_is_killed_recorded_and_replaced(
    fleet_factory: Callable[..., Fleet],
) -> None:
    fleet = fleet_factory(memory_mb=48, tasks=1)
    _require_caps(fleet)
    first = fleet.status().tasks[0]
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{first.port}/alloc?mb=200", timeout=20)
    _wait(lambda: bool(fleet.stopped_tasks()), 10, "the OOM kill recorded")
    (stopped,) = fleet.stopped_tasks()
    assert stopped.id == first.id
    assert stopped.oom and stopped.reason == OOM_REASON
    assert stopped.exit_code == -signal.SIGKILL
    _wait(
        lambda: [t.id for t in fleet.status().tasks if t.healthy] == [2],
        15,
        "replacement task 2 healthy behind HAProxy",
    )
    assert httpx.get(fleet.url, timeout=5).text == "hello\n"


def test_a_killed_task_leaves_rotation_and_traffic_continues(
    fleet_factory: Callable[..., Fleet], tmp_path: Path
) -> None:
    store = MetricStore(tmp_path / "metrics.db")
    slow = tmp_path / "slow"
    command = task_command("--slow-start-if", str(slow))
    fleet = fleet_factory(tasks=2, store=store, sample_interval=0.5, command=command)
    slow.touch()  # the replacement takes 2 s to come up: the sampler must see one host only
    results: list[int] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(timeout=5) as http:
            deadline = time.monotonic() + 20  # bounded, whatever happens
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    results.append(http.get(fleet.url).status_code)
                except httpx.TransportError:
                    results.append(0)
                time.sleep(0.01)

    thread = threading.Thread(target=client)
    thread.start()
    try:
        _wait(lambda: len(results) >= 20, 20, "traffic through the balancer")
        victim = fleet.status().tasks[0]
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)
        out_after = _wait(
            lambda: not fleet.status().tasks or victim.id not in _healthy_ids(fleet),
            3,
            "the killed task out of rotation",
        )
        _wait(lambda: len(_healthy_ids(fleet)) == 2, 15, "two healthy tasks again")
        time.sleep(1.0)  # traffic on the recovered fleet: no error may follow (the test)
    finally:
        stop.set()
        thread.join()
    assert out_after <= 3.0
    assert len(results) > 50
    assert set(results) == {200}, f"{results.count(200)} ok of {len(results)}"
    healthy = store.samples(MetricKey.of(names.HEALTHY_HOST_COUNT, LoadBalancer="rightsizer-lb"))
    values = [v for _, v in healthy]
    assert min(values) <= 1 and values[-1] == 2
    assert fleet.stopped_tasks()[0].id == victim.id
    requests = store.samples(MetricKey.of(names.REQUEST_COUNT, LoadBalancer="rightsizer-lb"))
    assert sum(v for _, v in requests) > 0
    fleet.stop()
    store.close()


def _healthy_ids(fleet: Fleet) -> list[int | str]:
    return [t.id for t in fleet.status().tasks if t.healthy]


def test_stop_leaves_no_process_group_or_record(
    fleet_factory: Callable[..., Fleet], tmp_path: Path
) -> None:
    fleet = fleet_factory(tasks=2)
    document = fleet.state_document()
    pids = [t["pid"] for t in document["tasks"]] + [document["haproxy_pid"]]
    assert all(running(pid) for pid in pids)
    fleet.stop()
    assert not any(running(pid) for pid in pids)
    assert not any(Path(g).exists() for g in document["groups"])
    assert list((tmp_path / "ledger").glob("*.json")) == []


def test_metrics_endpoint_exposes_the_latest_samples(fleet_factory: Callable[..., Fleet]) -> None:
    fleet = fleet_factory(tasks=1, sample_interval=0.5)
    assert fleet.control is not None
    url = f"{fleet.control.url}/metrics"

    def families() -> dict[str, Any]:
        text = httpx.get(url, timeout=5).text
        return {f.name: f for f in text_string_to_metric_families(text)}

    _wait(lambda: "rightsizer_cpu_utilization" in families(), 15, "a first CPU sample")
    cpu = families()["rightsizer_cpu_utilization"]
    assert {s.labels["task_id"] for s in cpu.samples} == {"", "1"}
    assert families()["rightsizer_healthy_host_count"].samples[0].value == 1
    status = httpx.get(f"{fleet.control.url}/status", timeout=5).json()
    assert status["healthy_hosts"] == 1 and status["url"] == fleet.url
    # The light view: the newest tick as the sampling loop keeps it.
    latest = fetch_status(fleet.control.url, path=SAMPLES_PATH)
    assert latest["tick"] is not None and latest["tick"] % 0.5 == 0
    cpu_now = task_average(latest)
    assert cpu_now is not None
    assert {s["name"] for s in latest["samples"]} >= {"CPUUtilization", "HealthyHostCount"}


def test_without_cgroup_permission_tasks_run_uncapped_with_one_warning(
    fleet_factory: Callable[..., Fleet], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rightsizer")
    fleet = fleet_factory(
        cgroup_root=tmp_path / "no-cgroups",
        balancing=Balancing.NONE,
        command=task_command("--burn", "0.5", "--cpu", "0.25"),
    )
    assert not fleet.capped
    warnings = [r for r in caplog.records if "UNCAPPED" in r.getMessage()]
    assert len(warnings) == 1 and len(fleet.warnings) == 1
    assert fleet.state_document()["capped"] is False

    # Still against the reservation: half of 0.25 vCPU reads 50% (status averages five
    # seconds of samples: it gets there once they are in).
    def half() -> bool:
        cpu = fleet.status().tasks[0].cpu_utilization
        return cpu is not None and abs(cpu - 50) <= 5

    _wait(half, 30, "status reading 50% of the reservation", interval=0.5)
