"""A service's own CloudWatch metrics over a run window, read with GetMetricData into the run's
metric store under CloudWatch's names.

    source = CloudWatchSource(EcsService.parse("seed/uploader"), period=60)
    source.check_step_time(180)                       # UsageError below three periods
    recording = record(connection, source, store, start, end, note=print)

What is read (per period; the store keeps one sample a period, at its middle, so a replay with
the same statistic and period gives CloudWatch's value back):
    AWS/ECS CPUUtilization, MemoryUtilization {ClusterName, ServiceName}: Average under those
        dimensions; Maximum with a third dimension Statistic=Maximum.
    with an ALB, AWS/ApplicationELB {LoadBalancer, TargetGroup}: RequestCount (Sum),
        TargetResponseTime (Average), HealthyHostCount (Average), HTTPCode_Target_5XX_Count (Sum).
Queries go in batches of BATCH per GetMetricData call, following NextToken; throttling is
retried with backoff by the client (rightsizer.aws.connection). CloudWatch publishes late:
`record` polls until every metric published each period (the ECS ones, HealthyHostCount) that
has data has its last period, or `wait` seconds pass, and says in the Recording which metrics
had no datapoint at all. The ALB's RequestCount, TargetResponseTime and 5XX count have a
datapoint only in periods with requests (none in a cooldown), so they never hold the wait up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rightsizer.aws.connection import AwsConnection, aws_errors
from rightsizer.errors import UsageError
from rightsizer.metrics.names import CLUSTER_DIMENSION, ECS_NAMESPACE, SERVICE_DIMENSION
from rightsizer.metrics.store import MetricKey, MetricStore, Sample

ALB_NAMESPACE = "AWS/ApplicationELB"
BATCH = 500  # GetMetricData's limit of queries per call
DEFAULT_PERIOD = 60
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
MIN_PERIODS_PER_STEP = 3
# ECS publishes a minute's metrics within a minute or two of its end; wait up to this.
DEFAULT_WAIT = 300.0


@dataclass(frozen=True)
class EcsService:
    """`CLUSTER/SERVICE`, as --ecs gives it."""

    cluster: str
    service: str

    @classmethod
    def parse(cls, text: str) -> EcsService:
        cluster, sep, service = text.partition("/")
        if not sep or not cluster.strip() or not service.strip() or "/" in service:
            raise UsageError(f"--ecs: expected CLUSTER/SERVICE, got {text!r}")
        return cls(cluster.strip(), service.strip())

    @property
    def dimensions(self) -> tuple[tuple[str, str], ...]:
        return ((CLUSTER_DIMENSION, self.cluster), (SERVICE_DIMENSION, self.service))


@dataclass(frozen=True)
class TargetGroup:
    """An ALB and one of its target groups, as CloudWatch's dimensions name them:
    `app/NAME/ID/targetgroup/NAME/ID` (--alb)."""

    load_balancer: str
    target_group: str

    @classmethod
    def parse(cls, text: str) -> TargetGroup:
        lb, sep, tg = text.partition("/targetgroup/")
        if not sep or not lb.startswith("app/") or lb.count("/") != 2 or tg.count("/") != 1:
            raise UsageError(
                f"--alb: expected app/LB-NAME/LB-ID/targetgroup/TG-NAME/TG-ID "
                f"(CloudWatch's LoadBalancer and TargetGroup values), got {text!r}"
            )
        return cls(lb, f"targetgroup/{tg}")

    @property
    def dimensions(self) -> tuple[tuple[str, str], ...]:
        return (("LoadBalancer", self.load_balancer), ("TargetGroup", self.target_group))


@dataclass(frozen=True)
class MetricQuery:
    """One MetricStat of GetMetricData and the series it is stored as."""

    id: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    unit: str
    primary: bool = True  # False: a second statistic, stored with a Statistic dimension
    sparse: bool = False  # True: published only in periods with traffic (the ALB's counts)

    @property
    def key(self) -> MetricKey:
        key = MetricKey.from_parts(self.namespace, self.name, dict(self.dimensions))
        return key if self.primary else key.of_statistic(self.stat)

    @property
    def label(self) -> str:
        return f"{self.namespace} {self.name} {self.stat}"

    def request(self, period: int) -> dict[str, Any]:
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
                },
                "Period": period,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


@dataclass(frozen=True)
class CloudWatchSource:
    """Which metrics a run reads, at which period, and how long it waits for the last one."""

    ecs: EcsService
    alb: TargetGroup | None = None
    period: int = DEFAULT_PERIOD
    wait: float = DEFAULT_WAIT

    def __post_init__(self) -> None:
        if self.period not in HIGH_RESOLUTION_PERIODS and self.period % 60:
            raise UsageError(
                f"--cloudwatch-period: 1, 5, 10, 20, 30 or a multiple of 60, got {self.period}"
            )
        if not (math.isfinite(self.wait) and 0 <= self.wait <= 3600):
            raise UsageError(f"--cloudwatch-wait: give 0 to 3600 seconds, got {self.wait:g}")

    def queries(self) -> tuple[MetricQuery, ...]:
        ecs = self.ecs.dimensions
        found = [
            MetricQuery("cpu_avg", ECS_NAMESPACE, "CPUUtilization", ecs, "Average", "Percent"),
            MetricQuery("cpu_max", ECS_NAMESPACE, "CPUUtilization", ecs, "Maximum", "Percent",
                        primary=False),
            MetricQuery("mem_avg", ECS_NAMESPACE, "MemoryUtilization", ecs, "Average", "Percent"),
            MetricQuery("mem_max", ECS_NAMESPACE, "MemoryUtilization", ecs, "Maximum", "Percent",
                        primary=False),
        ]  # fmt: skip
        if self.alb is not None:
            alb = self.alb.dimensions
            found += [
                MetricQuery("requests", ALB_NAMESPACE, "RequestCount", alb, "Sum", "Count",
                            sparse=True),
                MetricQuery("response", ALB_NAMESPACE, "TargetResponseTime", alb, "Average",
                            "Seconds", sparse=True),
                MetricQuery("healthy", ALB_NAMESPACE, "HealthyHostCount", alb, "Average", "Count"),
                MetricQuery("errors_5xx", ALB_NAMESPACE, "HTTPCode_Target_5XX_Count", alb, "Sum",
                            "Count", sparse=True),
            ]  # fmt: skip
        return tuple(found)

    def check_step_time(self, step_time: float | None) -> None:
        """UsageError when a step is shorter than three periods (too few datapoints a step)."""
        least = MIN_PERIODS_PER_STEP * self.period
        if step_time is not None and step_time < least:
            raise UsageError(
                f"--step-time: {step_time:g} s is under three CloudWatch periods "
                f"({self.period} s each); give --step-time {least} or more"
            )

    def describe(self) -> dict[str, Any]:
        return {
            "cluster": self.ecs.cluster,
            "service": self.ecs.service,
            "load_balancer": None if self.alb is None else self.alb.load_balancer,
            "target_group": None if self.alb is None else self.alb.target_group,
            "period": self.period,
            "resolution": "high (sub-minute)" if self.period < 60 else "standard (60 s)",
        }


@dataclass(frozen=True)
class Recording:
    """What `record` stored: the aligned window, datapoints per metric, the ones with none."""

    period: int
    start: float
    end: float
    datapoints: tuple[tuple[str, int], ...]
    missing: tuple[str, ...]
    waited: float
    complete: bool  # every metric with data had its last period before the wait ran out

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "start": self.start,
            "end": self.end,
            "datapoints": dict(self.datapoints),
            "missing": list(self.missing),
            "waited_s": round(self.waited, 1),
            "complete": self.complete,
        }


Series = dict[str, list[tuple[float, float]]]


def fetch(
    client: Any, queries: Iterable[MetricQuery], period: int, start: float, end: float
) -> Series:
    """(period start, value) pairs per query id over [start, end), oldest first: GetMetricData
    in batches of BATCH queries, each followed through its NextToken pages."""
    wanted = list(queries)
    found: Series = {q.id: [] for q in wanted}
    for first in range(0, len(wanted), BATCH):
        pages = client.get_paginator("get_metric_data").paginate(
            MetricDataQueries=[q.request(period) for q in wanted[first : first + BATCH]],
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
            ScanBy="TimestampAscending",
        )
        with aws_errors("GetMetricData"):
            for reply in pages:  # each page a call: NextToken followed by botocore
                for result in reply.get("MetricDataResults", []):
                    pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
                    found.setdefault(result["Id"], []).extend((t.timestamp(), v) for t, v in pairs)
    return {key: sorted(set(points)) for key, points in found.items()}


def record(
    connection: AwsConnection,
    source: CloudWatchSource,
    store: MetricStore,
    start: float,
    end: float,
    *,
    note: Callable[[str], None] = lambda _: None,
    cancelled: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Recording:
    """Read `source`'s metrics over the whole periods within [start, end] into `store`, once
    CloudWatch has published the last one (bounded by `source.wait`, with a note a poll).
    Once `cancelled()` (Ctrl-C, SIGTERM), what is published already is kept, without waiting."""
    period = source.period
    first = math.floor(start / period) * period
    last = math.floor(end / period) * period  # the window ends with the last whole period
    if last <= first:
        last = first + period
    queries = source.queries()
    client = connection.client("cloudwatch")
    began = clock()
    deadline = began + source.wait
    while True:
        now = clock()
        series = fetch(client, queries, period, first, last)
        with_data = [series[q.id] for q in queries if not q.sparse and series.get(q.id)]
        complete = bool(with_data) and all(p[-1][0] >= last - period for p in with_data)
        if complete or now >= deadline or cancelled():
            break
        note(
            f"waiting for CloudWatch to publish the period ending "
            f"{datetime.fromtimestamp(last, UTC):%H:%M:%S} UTC "
            f"({now - began:.0f} of {source.wait:g} s)"
        )
        sleep(min(_poll(period), deadline - now))
    _store(store, queries, series, period)
    return Recording(
        period=period,
        start=first,
        end=last,
        datapoints=tuple((q.label, len(series.get(q.id, []))) for q in queries),
        missing=tuple(q.label for q in queries if not series.get(q.id)),
        waited=clock() - began,
        complete=complete,
    )


def _poll(period: int) -> float:
    return float(min(period, 15))


def _store(store: MetricStore, queries: Iterable[MetricQuery], series: Series, period: int) -> None:
    store.put_many(
        Sample(q.key, ts + period / 2, value, q.unit)
        for q in queries
        for ts, value in series.get(q.id, [])
    )
