"""The same alarms for other tools: CloudWatch (PutMetricAlarm JSON), CloudFormation
(`AWS::CloudWatch::Alarm` resources, YAML) and Prometheus (an alerting rule group, YAML).

AWS formats keep only ARN actions (AWS refuses rightsizer's log/webhook:/command:/stop-run).
Prometheus differs from CloudWatch in ways no rule can hide; PROMETHEUS_NOTES says how, and the
exported file carries those notes as comments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.state import TreatMissingData
from rightsizer.alarms.watched_series import series_key
from rightsizer.metrics.names import TASK_DIMENSION
from rightsizer.metrics.statistics import Basic
from rightsizer.yaml_text import yaml_lines

FORMATS = ("cloudwatch", "cloudformation", "prometheus")
PROMETHEUS_PREFIX = "rightsizer_"
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_PROMQL_FUNCTIONS = {
    Basic.AVERAGE: "avg_over_time",
    Basic.MAXIMUM: "max_over_time",
    Basic.MINIMUM: "min_over_time",
    Basic.SUM: "sum_over_time",
    Basic.SAMPLE_COUNT: "count_over_time",
}
# AWS::CloudWatch::Alarm has no Tags property in every region's schema; leave them out.
_CFN_DROPPED = ("Tags",)
PROMETHEUS_NOTES = (
    "Windows slide (avg_over_time(x[60s]) at each rule evaluation); CloudWatch's periods are"
    " epoch-aligned.",
    "A gauge is sampled at each scrape, so Sum and SampleCount count scrapes, not samples.",
    "for: is Period x DatapointsToAlarm of uninterrupted breach: an M-of-N alarm whose"
    " breaching periods have gaps does not fire.",
    "keep_firing_for: Period x (N - M) stands in for CloudWatch's minimum N - M + 1 datapoints"
    " for ALARM -> OK.",
    "A series that stops gives no alert (as notBreaching); TreatMissingData breaching adds"
    " `or absent_over_time(...)`.",
)


def export(alarms: Sequence[AlarmDefinition], fmt: str) -> str:
    """The text of `alarms` in format `fmt` (one of FORMATS), ending with a newline."""
    match fmt:
        case "cloudwatch":
            return to_cloudwatch(alarms)
        case "cloudformation":
            return to_cloudformation(alarms)
        case "prometheus":
            return to_prometheus(alarms)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def to_cloudwatch(alarms: Sequence[AlarmDefinition]) -> str:
    """One alarm: the object `put-metric-alarm --cli-input-json` takes; several: a list."""
    docs = [a.to_json(arn_actions_only=True) for a in alarms]
    return json.dumps(docs[0] if len(docs) == 1 else docs, indent=2) + "\n"


def to_cloudformation(alarms: Sequence[AlarmDefinition]) -> str:
    """A template with one `AWS::CloudWatch::Alarm` resource per alarm."""
    resources: dict[str, Any] = {}
    for alarm in alarms:
        props = {
            k: v for k, v in alarm.to_json(arn_actions_only=True).items() if k not in _CFN_DROPPED
        }
        resources[_logical_id(alarm.name, resources)] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": props,
        }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "CloudWatch alarms exported by rightsizer",
        "Resources": resources,
    }
    return "\n".join(yaml_lines(template)) + "\n"


def _logical_id(name: str, taken: dict[str, Any]) -> str:
    base = "Alarm" + "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", name))
    candidate, n = base[:250], 1
    while candidate in taken:
        n += 1
        candidate = f"{base[:245]}{n}"
    return candidate


def to_prometheus(alarms: Sequence[AlarmDefinition]) -> str:
    """An alerting rule group on the exported rightsizer_* series."""
    header = ["# Exported by rightsizer from CloudWatch alarm definitions. What differs:"]
    header += [f"# - {note}" for note in PROMETHEUS_NOTES]
    group = {"groups": [{"name": "rightsizer", "rules": [_rule(a) for a in alarms]}]}
    return "\n".join([*header, *yaml_lines(group)]) + "\n"


def _rule(alarm: AlarmDefinition) -> dict[str, Any]:
    key = series_key(alarm)
    selector = prometheus_name(key.name) + _matchers(key.dimensions)
    window = f"[{alarm.period}s]"
    if alarm.statistic.percentile is not None:
        value = f"quantile_over_time({alarm.statistic.percentile / 100:g}, {selector}{window})"
    else:
        assert alarm.statistic.basic is not None
        value = f"{_PROMQL_FUNCTIONS[alarm.statistic.basic]}({selector}{window})"
    expr = f"{value} {alarm.comparison.symbol} {alarm.threshold:g}"
    if alarm.treat_missing_data is TreatMissingData.BREACHING:
        expr = f"({expr}) or absent_over_time({selector}{window})"
    rule: dict[str, Any] = {
        "alert": _alert_name(alarm.name),
        "expr": expr,
        "for": f"{alarm.period * alarm.datapoints_to_alarm}s",
    }
    spare = alarm.evaluation_periods - alarm.datapoints_to_alarm
    if spare:
        rule["keep_firing_for"] = f"{alarm.period * spare}s"
    rule["labels"] = {"severity": "warning", "source": "rightsizer"}
    rule["annotations"] = {
        "summary": f"{alarm.name}: {key.name} {alarm.statistic.name} "
        f"{alarm.comparison.symbol} {alarm.threshold:g}",
        "description": alarm.description
        or f"{alarm.datapoints_to_alarm} of {alarm.evaluation_periods} periods of "
        f"{alarm.period} s (CloudWatch alarm {alarm.name})",
        "cloudwatch_alarm_name": alarm.name,
    }
    return rule


def prometheus_name(metric_name: str) -> str:
    """`CPUUtilization` -> `rightsizer_cpu_utilization` (the name /metrics exports)."""
    return PROMETHEUS_PREFIX + snake_case(metric_name)


def snake_case(name: str) -> str:
    """`HTTPCode_Target_5XX_Count` -> `http_code_target_5xx_count`, `TaskId` -> `task_id`
    (the same words as rightsizer.metrics.prometheus, which serves /metrics)."""
    return _CAMEL.sub("_", name).replace("__", "_").lower()


def _matchers(dimensions: Sequence[tuple[str, str]]) -> str:
    """Label matchers; without a TaskId they ask for the service-level series (task_id=""),
    which /metrics serves under the same name as the per-task ones."""
    if not dimensions:
        return ""
    if TASK_DIMENSION not in dict(dimensions):
        dimensions = [*dimensions, (TASK_DIMENSION, "")]
    escaped = [
        (snake_case(k), v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
        for k, v in dimensions
    ]
    return "{" + ",".join(f'{k}="{v}"' for k, v in escaped) + "}"


def _alert_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_:]+", "_", name).strip("_") or "alarm"
    return cleaned if not cleaned[0].isdigit() else f"alarm_{cleaned}"
