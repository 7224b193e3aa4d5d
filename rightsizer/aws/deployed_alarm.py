"""The alarm deployed in CloudWatch: pulled as a PutMetricAlarm document, pushed from one, and
the difference between what is deployed and a definition.

    alarm = pull(connection, "cpu-high")             # DescribeAlarms; None if there is none
    changes = differences(alarm, wanted)             # what `push` would change, field by field
    push(connection, wanted)                         # PutMetricAlarm

A pulled alarm goes through AlarmDefinition, so it is the same JSON that `alarm export
--format cloudwatch` writes and `aws cloudwatch put-metric-alarm --cli-input-json` takes.
DescribeAlarms does not return Tags (ListTagsForResource would); a pulled alarm has none, and
tags are left out of the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rightsizer.alarms.definition import KNOWN_FIELDS, AlarmDefinition
from rightsizer.aws.connection import AwsConnection, aws_errors
from rightsizer.errors import UsageError

# Fields of DescribeAlarms' MetricAlarm that PutMetricAlarm also takes, Tags aside.
_PUT_FIELDS = tuple(f for f in KNOWN_FIELDS if f != "Tags")


@dataclass(frozen=True)
class FieldChange:
    """One PutMetricAlarm field that differs: None = absent on that side."""

    field: str
    deployed: Any
    wanted: Any

    def __str__(self) -> str:
        return f"{self.field}: {_shown(self.deployed)} -> {_shown(self.wanted)}"


def pull(connection: AwsConnection, name: str) -> AlarmDefinition | None:
    """The metric alarm `name` as deployed (DescribeAlarms), or None when there is none.
    UsageError for a metric-math or composite alarm, which rightsizer cannot evaluate."""
    with aws_errors("DescribeAlarms"):
        reply = connection.client("cloudwatch").describe_alarms(
            AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
    if reply.get("CompositeAlarms"):
        raise UsageError(f"{name}: a composite alarm; rightsizer handles metric alarms only")
    found = [a for a in reply.get("MetricAlarms", []) if a.get("AlarmName") == name]
    if not found:
        return None
    deployed = found[0]
    if deployed.get("Metrics"):
        raise UsageError(f"{name}: a metric math alarm; rightsizer cannot evaluate those")
    document = {k: deployed[k] for k in _PUT_FIELDS if deployed.get(k) not in (None, [])}
    return AlarmDefinition.from_json(document)


def push(connection: AwsConnection, alarm: AlarmDefinition) -> None:
    """Create or replace the alarm (PutMetricAlarm), with its ARN actions only."""
    with aws_errors("PutMetricAlarm"):
        connection.client("cloudwatch").put_metric_alarm(**alarm.to_json(arn_actions_only=True))


def differences(deployed: AlarmDefinition | None, wanted: AlarmDefinition) -> list[FieldChange]:
    """The fields `push(wanted)` would change, in PutMetricAlarm's order; every field of
    `wanted` when nothing is deployed."""
    old = {} if deployed is None else deployed.to_json(arn_actions_only=True)
    new = wanted.to_json(arn_actions_only=True)
    return [
        FieldChange(field, old.get(field), new.get(field))
        for field in _PUT_FIELDS
        if old.get(field) != new.get(field)
    ]


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return (
            ", ".join(
                "=".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item)
                for item in value
            )
            or "(none)"
        )
    return str(value)
