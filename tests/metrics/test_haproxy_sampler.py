"""LB metrics from successive `show stat` readings (scripted rows at the StatSource seam)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from rightsizer.metrics import names
from rightsizer.metrics.haproxy_sampler import HAProxySampler, is_healthy
from rightsizer.metrics.store import MetricKey, Sample


def _row(server: str, status: str, **counts: int) -> dict[str, str]:
    row = {"pxname": "tasks", "svname": server, "status": status, "rtime": "0"}
    for field in ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"):
        row[field] = str(counts.get(field, 0))
    row["rtime"] = str(counts.get("rtime", 0))
    return row


class Stats:
    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def show_stat(self) -> list[dict[str, str]]:
        others = [
            {"pxname": "rightsizer", "svname": "FRONTEND", "status": "OPEN"},
            {"pxname": "tasks", "svname": "BACKEND", "status": "UP"},
        ]
        return others + self.rows


class Targets:
    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping = dict(mapping)

    def targets(self) -> Mapping[str, str]:
        return self.mapping


def _values(samples: list[Sample]) -> dict[MetricKey, float]:
    return {s.key: s.value for s in samples}


def test_counts_are_deltas_per_target_and_for_the_balancer() -> None:
    stats = Stats()
    sampler = HAProxySampler(stats, Targets({"t1": "7", "t2": "8"}), "tasks", "lb")
    stats.rows = [_row("t1", "UP", hrsp_2xx=100), _row("t2", "UP", hrsp_2xx=50, hrsp_5xx=1)]
    first = _values(list(sampler.sample(100.0)))
    assert first == {
        MetricKey.of(names.HEALTHY_HOST_COUNT, LoadBalancer="lb"): 2.0,
        MetricKey.of(names.UNHEALTHY_HOST_COUNT, LoadBalancer="lb"): 0.0,
    }
    stats.rows = [
        _row("t1", "UP", hrsp_2xx=110, hrsp_3xx=5, hrsp_4xx=1, rtime=12),
        _row("t2", "DOWN", hrsp_2xx=50, hrsp_5xx=3),
    ]
    samples = list(sampler.sample(101.0))
    got = _values(samples)
    t1 = {"LoadBalancer": "lb", "TaskId": "7"}
    t2 = {"LoadBalancer": "lb", "TaskId": "8"}
    assert got[MetricKey.of(names.REQUEST_COUNT, **t1)] == 16
    assert got[MetricKey.of(names.TARGET_2XX, **t1)] == 10
    assert got[MetricKey.of(names.TARGET_3XX, **t1)] == 5
    assert got[MetricKey.of(names.TARGET_4XX, **t1)] == 1
    assert got[MetricKey.of(names.TARGET_RESPONSE_TIME, **t1)] == pytest.approx(0.012)
    assert got[MetricKey.of(names.REQUEST_COUNT, **t2)] == 2
    assert got[MetricKey.of(names.TARGET_5XX, **t2)] == 2
    assert got[MetricKey.of(names.TARGET_RESPONSE_TIME, **t2)] == 0.0
    assert got[MetricKey.of(names.REQUEST_COUNT, LoadBalancer="lb")] == 18
    assert got[MetricKey.of(names.TARGET_5XX, LoadBalancer="lb")] == 2
    assert got[MetricKey.of(names.HEALTHY_HOST_COUNT, LoadBalancer="lb")] == 1
    assert got[MetricKey.of(names.UNHEALTHY_HOST_COUNT, LoadBalancer="lb")] == 1
    counts = [s for s in samples if s.key.name == names.REQUEST_COUNT]
    assert {s.timestamp for s in counts} == {100.5}
    assert sampler.status == {"t1": "UP", "t2": "DOWN"}


def test_a_server_in_maintenance_is_unhealthy_and_new_servers_start_at_zero() -> None:
    stats = Stats()
    sampler = HAProxySampler(stats, Targets({}), "tasks", "lb")
    stats.rows = [_row("t1", "MAINT", hrsp_2xx=5)]
    list(sampler.sample(1.0))
    stats.rows = [_row("t1", "MAINT", hrsp_2xx=5), _row("t2", "UP", hrsp_2xx=3)]
    got = _values(list(sampler.sample(2.0)))
    assert got[MetricKey.of(names.HEALTHY_HOST_COUNT, LoadBalancer="lb")] == 1
    assert got[MetricKey.of(names.UNHEALTHY_HOST_COUNT, LoadBalancer="lb")] == 1
    # t2 appeared between readings: its first reading is a baseline, not 3 new requests.
    assert got[MetricKey.of(names.REQUEST_COUNT, LoadBalancer="lb", TaskId="t2")] == 0


@pytest.mark.parametrize(
    ("status", "healthy"),
    [
        ("UP", True),
        ("UP 1/2", True),  # one check failed, not down yet: still in rotation
        ("DOWN", False),
        ("DOWN 1/2", False),  # one check passed, not up yet
        ("MAINT", False),
        ("DRAIN", False),
        ("NOLB", False),
        ("", False),
    ],
)
def test_one_rule_for_a_healthy_server(status: str, healthy: bool) -> None:
    assert is_healthy(status) is healthy
    stats = Stats()
    stats.rows = [_row("t1", status)]
    got = _values(list(HAProxySampler(stats, Targets({}), "tasks", "lb").sample(1.0)))
    assert got[MetricKey.of(names.HEALTHY_HOST_COUNT, LoadBalancer="lb")] == float(healthy)
