"""Builders shared by the alarm tests: definitions, windows and epoch times."""

from __future__ import annotations

import calendar
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.evaluation import Window
from rightsizer.metrics.store import Datapoint, MetricKey, MetricStore, Sample
from rightsizer.rundir import RunDir, write_json

# 27/11/26 14:00:00 UTC, a whole hour, so every period size is aligned to it.
T0 = float(calendar.timegm((2026, 11, 27, 14, 0, 0)))


def alarm_document(**fields: Any) -> dict[str, Any]:
    """A valid CPU alarm's PutMetricAlarm JSON (60 s, 1 of 1, > 20) with `fields` replaced
    (None removes one)."""
    doc: dict[str, Any] = {
        "AlarmName": "cpu-high",
        "Namespace": "rightsizer",
        "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "ServiceName", "Value": "uploader"}],
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 20,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not None}


def definition(**fields: Any) -> AlarmDefinition:
    """A valid CPU alarm (60 s, 1 of 1, > 20) with `fields` replaced (None removes one)."""
    return AlarmDefinition.from_json(alarm_document(**fields))


def window(
    pattern: str, *, period: int = 60, boundary: float = T0, bad: float = 30.0, good: float = 10.0
) -> Window:
    """A window from a pattern oldest first, as the CloudWatch docs draw them:
    `X` breaching, `0` not breaching, `-` missing (for an alarm `> 20`)."""
    values = {"X": bad, "0": good}
    n = len(pattern)
    periods = tuple(
        None if c == "-" else Datapoint(boundary - (n - i) * period, values[c], 1)
        for i, c in enumerate(pattern)
    )
    return Window(boundary, period, periods)


# A recorded run: 30 s idle, steps of 1, 3, 10 and 20 users of 60 s each, 60 s idle after.
LOAD_START = T0 + 30
LOAD_END = T0 + 270
STEPS = (
    # users, service CPU %, p95 ms, fail ratio
    (1, 8.0, 120.0, 0.0),
    (3, 18.0, 150.0, 0.0),
    (10, 45.0, 600.0, 0.0),
    (20, 95.0, 3200.0, 0.05),
)


def cpu_at(t: float) -> float:
    """The service's CPU % at time t (a little deterministic noise, never across 20/30/50)."""
    wobble = 0.5 * math.sin(t)
    if not LOAD_START <= t < LOAD_END:
        return 1.0 + wobble
    return STEPS[int((t - LOAD_START) // 60)][1] + wobble


def make_run(root: Path) -> RunDir:
    """A run directory as `rightsizer run` writes one, with 1 Hz samples for 330 s."""
    run = RunDir.create(root, "synthetic", now=datetime(2026, 11, 27, 14, tzinfo=UTC))
    write_json(run.manifest_path, {"load_start": LOAD_START, "load_end": LOAD_END})
    steps = []
    for i, (users, cpu, p95, fail) in enumerate(STEPS):
        start = LOAD_START + 60 * i
        steps.append(
            {
                "index": i,
                "users": users,
                "start": start,
                "end": start + 60,
                "steady_start": start + 12,
                "p95_ms": p95,
                "fail_ratio": fail,
                "cpu_utilization": cpu,
            }
        )
    write_json(run.steps_path, {"steps": steps})
    service = MetricKey.of("CPUUtilization", ServiceName="uploader")
    task = MetricKey.of("CPUUtilization", ServiceName="uploader", TaskId="1")
    with MetricStore(run.metrics_path) as store:
        samples = []
        for second in range(330):
            t = T0 + second + 0.5  # the middle of the second it measures
            samples += [Sample(service, t, cpu_at(t), "Percent"), Sample(task, t, cpu_at(t))]
        store.put_many(samples)
    return run
