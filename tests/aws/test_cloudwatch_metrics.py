"""GetMetricData into the metric store, against the emulator: what is stored, throttling,
a metric with no datapoint, and the waiting for the last period."""

from __future__ import annotations

import calendar
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rightsizer.aws.cloudwatch_metrics import (
    CloudWatchSource,
    EcsService,
    TargetGroup,
    record,
)
from rightsizer.aws.connection import AwsConnection
from rightsizer.errors import UsageError
from rightsizer.metrics.store import MetricKey, MetricStore
from tests.aws.conftest import REGION, Aws
from tests.aws.seam import AwsProxy

# A whole minute in the past, so every period of the window is over when it is read.
T0 = float(calendar.timegm((2026, 11, 27, 14, 0, 0)))
LB = "app/seed-alb/50dc6c495c0c9188"
TG = "targetgroup/seed-tg/73e2d6bc24d8a067"


def publish(
    aws: Aws, namespace: str, name: str, dims: dict[str, str], points: list[tuple[float, float]]
) -> None:
    """PutMetricData, one datum per (epoch seconds, value), as ECS or the ALB would."""
    aws.client("cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                "Timestamp": datetime.fromtimestamp(ts, UTC),
                "Value": value,
                "StorageResolution": 1,
            }
            for ts, value in points
        ],
    )


def ecs_dims(aws: Aws) -> dict[str, str]:
    return {"ClusterName": aws.name("seed"), "ServiceName": "uploader"}


def test_ecs_cpu_and_memory_are_stored_per_period_under_cloudwatch_names(
    aws: Aws, tmp_path: Path
) -> None:
    dims = ecs_dims(aws)
    # Two tasks' datapoints per 60 s period, over three periods (ECS publishes per task).
    cpu = [(T0 + 60 * p + 10 + t, 10.0 * (p + 1) + 5 * t) for p in range(3) for t in range(2)]
    mem = [(T0 + 60 * p + 20, 40.0 + p) for p in range(3)]
    publish(aws, "AWS/ECS", "CPUUtilization", dims, cpu)
    publish(aws, "AWS/ECS", "MemoryUtilization", dims, mem)
    source = CloudWatchSource(EcsService(dims["ClusterName"], "uploader"), period=60, wait=0)
    with MetricStore(tmp_path / "metrics.db") as store:
        recording = record(aws.connection, source, store, T0 + 5, T0 + 185)
        average = store.samples(MetricKey.of("CPUUtilization", "AWS/ECS", **dims))
        maximum = store.samples(
            MetricKey.of("CPUUtilization", "AWS/ECS", **dims, Statistic="Maximum")
        )
        memory = store.samples(MetricKey.of("MemoryUtilization", "AWS/ECS", **dims))
    for p, (ts, value) in enumerate(average):
        assert ts == T0 + 60 * p + 30  # the middle of the period
        assert value == pytest.approx(
            statistics.mean(v for t, v in cpu if T0 + 60 * p <= t < T0 + 60 * (p + 1))
        )
    assert len(average) == 3
    assert [v for _, v in maximum] == [15.0, 25.0, 35.0]
    assert [v for _, v in memory] == [40.0, 41.0, 42.0]
    assert recording.start == T0 and recording.end == T0 + 180
    assert recording.complete and recording.missing == ()


def test_a_metric_without_datapoints_is_named_missing(aws: Aws, tmp_path: Path) -> None:
    dims = ecs_dims(aws)
    alb = {"LoadBalancer": LB, "TargetGroup": f"{TG}-{aws.prefix}"}
    publish(aws, "AWS/ECS", "CPUUtilization", dims, [(T0 + 3, 12.0), (T0 + 63, 14.0)])
    publish(aws, "AWS/ECS", "MemoryUtilization", dims, [(T0 + 3, 30.0), (T0 + 63, 30.0)])
    publish(aws, "AWS/ApplicationELB", "RequestCount", alb, [(T0 + 5, 100.0), (T0 + 65, 250.0)])
    source = CloudWatchSource(
        EcsService(dims["ClusterName"], "uploader"),
        TargetGroup(LB, alb["TargetGroup"]),
        period=60,
        wait=0,
    )
    with MetricStore(tmp_path / "metrics.db") as store:
        recording = record(aws.connection, source, store, T0, T0 + 120)
        requests = store.samples(MetricKey.of("RequestCount", "AWS/ApplicationELB", **alb))
        assert not store.samples(MetricKey.of("HealthyHostCount", "AWS/ApplicationELB", **alb))
    assert [v for _, v in requests] == [100.0, 250.0]
    assert set(recording.missing) == {
        "AWS/ApplicationELB TargetResponseTime Average",
        "AWS/ApplicationELB HealthyHostCount Average",
        "AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum",
    }
    assert recording.to_json()["datapoints"]["AWS/ECS CPUUtilization Average"] == 2


def test_a_throttled_call_is_retried_with_backoff(aws: Aws, tmp_path: Path) -> None:
    dims = ecs_dims(aws)
    publish(aws, "AWS/ECS", "CPUUtilization", dims, [(T0 + 1, 33.0)])
    source = CloudWatchSource(EcsService(dims["ClusterName"], "uploader"), period=60, wait=0)
    with AwsProxy(aws.url) as proxy, MetricStore(tmp_path / "metrics.db") as store:
        proxy.throttle("GetMetricData", times=1)
        record(AwsConnection.build(REGION, proxy.url), source, store, T0, T0 + 60)
        stored = store.samples(MetricKey.of("CPUUtilization", "AWS/ECS", **dims))
    assert proxy.calls["GetMetricData"] == 2  # the throttled one, then the retry
    assert stored == [(T0 + 30, 33.0)]


def test_the_run_waits_for_the_last_period_then_gives_up(aws: Aws, tmp_path: Path) -> None:
    """A fake clock: the last period is never published, so the wait runs out, saying so."""
    dims = ecs_dims(aws)
    publish(aws, "AWS/ECS", "CPUUtilization", dims, [(T0 + 1, 50.0)])  # first period only
    now = [T0 + 200.0]
    notes: list[str] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    source = CloudWatchSource(EcsService(dims["ClusterName"], "uploader"), period=60, wait=45)
    with MetricStore(tmp_path / "metrics.db") as store:
        recording = record(
            aws.connection, source, store, T0, T0 + 120,
            note=notes.append, clock=lambda: now[0], sleep=sleep,
        )  # fmt: skip
    assert not recording.complete
    assert recording.waited == pytest.approx(45)
    assert len(notes) == 3  # polls at 0, 15 and 30 s; the one at 45 s is the last
    assert notes[0].startswith("waiting for CloudWatch to publish the period ending 14:02:00 UTC")


def test_an_interrupted_run_keeps_what_is_published_without_waiting(
    aws: Aws, tmp_path: Path
) -> None:
    """After Ctrl-C or SIGTERM nothing waits for the last period (--ecs-tasks restores the
    desired count next; a supervisor's SIGKILL must not come first)."""
    dims = ecs_dims(aws)
    publish(aws, "AWS/ECS", "CPUUtilization", dims, [(T0 + 1, 50.0)])  # first period only
    now = [T0 + 200.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    source = CloudWatchSource(EcsService(dims["ClusterName"], "uploader"), period=60, wait=300)
    with MetricStore(tmp_path / "metrics.db") as store:
        recording = record(
            aws.connection, source, store, T0, T0 + 120,
            cancelled=lambda: True, clock=lambda: now[0], sleep=sleep,
        )  # fmt: skip
        stored = store.samples(MetricKey.of("CPUUtilization", "AWS/ECS", **dims))
    assert slept == [] and not recording.complete
    assert stored == [(T0 + 30, 50.0)]


def test_alb_counts_absent_in_a_quiet_last_period_do_not_hold_the_wait(
    aws: Aws, tmp_path: Path
) -> None:
    """The ALB publishes RequestCount and the 5XX count only in periods with requests: none
    in a cooldown. ECS's CPU has the last period, so the recording is complete at once."""
    dims = ecs_dims(aws)
    alb = {"LoadBalancer": LB, "TargetGroup": f"{TG}-{aws.prefix}"}
    publish(aws, "AWS/ECS", "CPUUtilization", dims, [(T0 + 3, 40.0), (T0 + 63, 5.0)])
    publish(aws, "AWS/ApplicationELB", "RequestCount", alb, [(T0 + 5, 900.0)])
    publish(aws, "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb, [(T0 + 7, 3.0)])
    now = [T0 + 200.0]
    notes: list[str] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    source = CloudWatchSource(
        EcsService(dims["ClusterName"], "uploader"),
        TargetGroup(LB, alb["TargetGroup"]),
        period=60,
        wait=45,
    )
    with MetricStore(tmp_path / "metrics.db") as store:
        recording = record(
            aws.connection, source, store, T0, T0 + 120,
            note=notes.append, clock=lambda: now[0], sleep=sleep,
        )  # fmt: skip
    assert recording.complete
    assert notes == [] and recording.waited == 0


def test_steps_shorter_than_three_periods_are_refused() -> None:
    source = CloudWatchSource(EcsService("seed", "uploader"), period=60)
    source.check_step_time(180)
    with pytest.raises(UsageError, match=r"--step-time: 120 s is under three CloudWatch periods"):
        source.check_step_time(120)


@pytest.mark.parametrize(
    ("flag", "text"),
    [("--ecs", "seed"), ("--ecs", "seed/"), ("--alb", "my-alb/my-tg"), ("--alb", LB)],
)
def test_bad_names_are_refused_in_one_line(flag: str, text: str) -> None:
    parse: Any = EcsService.parse if flag == "--ecs" else TargetGroup.parse
    with pytest.raises(UsageError, match=f"^{flag}: expected"):
        parse(text)


def test_pages_are_followed_by_their_next_token(aws: Aws, tmp_path: Path) -> None:
    """moto's GetMetricData answers in one page, so two pages are served at the HTTP seam,
    written as the API reference documents GetMetricData's output."""
    dims = ecs_dims(aws)
    source = CloudWatchSource(EcsService(dims["ClusterName"], "uploader"), period=60, wait=0)
    first = {
        "MetricDataResults": [
            {"Id": "cpu_avg", "Label": "CPUUtilization", "StatusCode": "PartialData",
             "Timestamps": [T0], "Values": [11.0]},
        ],
        "NextToken": "page-2-token",
    }  # fmt: skip
    second = {
        "MetricDataResults": [
            {"Id": "cpu_avg", "Label": "CPUUtilization", "StatusCode": "Complete",
             "Timestamps": [T0 + 60], "Values": [22.0]},
            {"Id": "mem_avg", "Label": "MemoryUtilization", "StatusCode": "Complete",
             "Timestamps": [T0, T0 + 60], "Values": [40.0, 41.0]},
        ],
    }  # fmt: skip
    with AwsProxy(aws.url) as proxy, MetricStore(tmp_path / "metrics.db") as store:
        proxy.pages("GetMetricData", [first, second])
        recording = record(AwsConnection.build(REGION, proxy.url), source, store, T0, T0 + 120)
        cpu = store.samples(MetricKey.of("CPUUtilization", "AWS/ECS", **dims))
        memory = store.samples(MetricKey.of("MemoryUtilization", "AWS/ECS", **dims))
    assert proxy.calls["GetMetricData"] == 2
    assert b"page-2-token" not in proxy.bodies["GetMetricData"][0]
    assert b"page-2-token" in proxy.bodies["GetMetricData"][1]
    assert cpu == [(T0 + 30, 11.0), (T0 + 90, 22.0)]  # both pages, one series
    assert memory == [(T0 + 30, 40.0), (T0 + 90, 41.0)]
    assert set(recording.missing) == {
        "AWS/ECS CPUUtilization Maximum",
        "AWS/ECS MemoryUtilization Maximum",
    }
