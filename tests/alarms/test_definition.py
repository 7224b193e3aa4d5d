"""PutMetricAlarm parsing: what AWS accepts is accepted, errors name the field."""

from __future__ import annotations

from typing import Any

import pytest

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.state import ComparisonOperator, TreatMissingData
from rightsizer.errors import AlarmDefinitionError, UsageError
from tests.alarms.helpers import definition

# As `aws cloudwatch put-metric-alarm --generate-cli-skeleton` lays a full one out.
FULL = {
    "AlarmName": "cpu-high",
    "AlarmDescription": "The seed's alarm",
    "ActionsEnabled": True,
    "OKActions": ["log"],
    "AlarmActions": ["arn:aws:sns:eu-west-1:123456789012:ops", "webhook:https://example.test/h"],
    "InsufficientDataActions": [],
    "MetricName": "CPUUtilization",
    "Namespace": "AWS/ECS",
    "Statistic": "Average",
    "Dimensions": [
        {"Name": "ClusterName", "Value": "prod"},
        {"Name": "ServiceName", "Value": "uploader"},
    ],
    "Period": 60,
    "Unit": "Percent",
    "EvaluationPeriods": 3,
    "DatapointsToAlarm": 2,
    "Threshold": 20.0,
    "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching",
    "Tags": [{"Key": "team", "Value": "web"}],
}


def test_a_full_definition_round_trips() -> None:
    alarm = AlarmDefinition.from_json(FULL)
    assert alarm.datapoints_to_alarm == 2
    assert alarm.comparison is ComparisonOperator.GREATER_THAN
    assert alarm.treat_missing_data is TreatMissingData.NOT_BREACHING
    assert alarm.dimension_map == {"ClusterName": "prod", "ServiceName": "uploader"}
    assert AlarmDefinition.from_json(alarm.to_json()) == alarm
    # Everything comes back as given, but the empty action list, which PutMetricAlarm omits.
    assert alarm.to_json() == {k: v for k, v in FULL.items() if k != "InsufficientDataActions"}


def test_defaults_are_cloudwatch_defaults() -> None:
    alarm = definition(EvaluationPeriods=4)
    assert alarm.datapoints_to_alarm == 4  # M defaults to N
    assert alarm.treat_missing_data is TreatMissingData.MISSING
    assert alarm.actions_enabled


def test_arn_only_export_drops_rightsizer_actions() -> None:
    doc = AlarmDefinition.from_json(FULL).to_json(arn_actions_only=True)
    assert doc["AlarmActions"] == ["arn:aws:sns:eu-west-1:123456789012:ops"]
    assert "OKActions" not in doc


def test_percentiles_are_extended_statistics() -> None:
    alarm = definition(Statistic=None, ExtendedStatistic="p99.9")
    assert alarm.statistic.is_extended
    assert alarm.to_json()["ExtendedStatistic"] == "p99.9"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"AlarmName": None}, "AlarmName"),
        ({"AlarmName": ""}, "AlarmName"),
        ({"AlarmName": "a" * 256}, "AlarmName"),
        ({"AlarmName": "bad\nname"}, "AlarmName"),
        ({"MetricName": None}, "MetricName"),
        ({"Namespace": 7}, "Namespace"),
        ({"Statistic": None}, "Statistic"),
        ({"Statistic": "Median"}, "Statistic"),
        ({"Statistic": "p95"}, "Statistic"),
        ({"ExtendedStatistic": "p95"}, "Statistic"),  # both given
        ({"Statistic": None, "ExtendedStatistic": "tm90"}, "ExtendedStatistic"),
        ({"Period": None}, "Period"),
        ({"Period": 45}, "Period"),
        ({"Period": 0}, "Period"),
        ({"Period": "60"}, "Period"),
        ({"Period": 60.5}, "Period"),
        ({"EvaluationPeriods": 0}, "EvaluationPeriods"),
        ({"EvaluationPeriods": True}, "EvaluationPeriods"),
        ({"Period": 10, "EvaluationPeriods": 8641}, "EvaluationPeriods"),
        ({"EvaluationPeriods": 3, "DatapointsToAlarm": 4}, "DatapointsToAlarm"),
        ({"DatapointsToAlarm": 0}, "DatapointsToAlarm"),
        ({"Threshold": None}, "Threshold"),
        ({"Threshold": "20"}, "Threshold"),
        ({"Threshold": float("nan")}, "Threshold"),
        ({"ComparisonOperator": "GreaterThanUpperThreshold"}, "ComparisonOperator"),
        ({"ComparisonOperator": None}, "ComparisonOperator"),
        ({"TreatMissingData": "zero"}, "TreatMissingData"),
        ({"Dimensions": {"Name": "a"}}, "Dimensions"),
        ({"Dimensions": [{"Name": "a"}]}, "Dimensions[0]"),
        ({"Dimensions": [{"Name": "a", "Value": ""}]}, "Dimensions[0].Value"),
        (
            {"Dimensions": [{"Name": "a", "Value": "1"}, {"Name": "a", "Value": "2"}]},
            "Dimensions[1]",
        ),
        ({"AlarmActions": "log"}, "AlarmActions"),
        ({"AlarmActions": ["log", "page-me"]}, "AlarmActions[1]"),
        ({"OKActions": ["webhook:ftp://x"]}, "OKActions[0]"),
        ({"OKActions": ["command:  "]}, "OKActions[0]"),
        ({"OKActions": ["log"] * 6}, "OKActions"),
        ({"ActionsEnabled": "yes"}, "ActionsEnabled"),
        ({"EvaluateLowSampleCountPercentile": "ignore"}, "EvaluateLowSampleCountPercentile"),
        ({"Metrics": []}, "Metrics"),
        ({"Thresold": 20}, "Thresold"),
    ],
)
def test_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(AlarmDefinitionError) as info:
        definition(**change)
    assert info.value.field == field
    assert str(info.value) == f"{field}: {info.value.message}"
    assert isinstance(info.value, UsageError)  # exit code 2


def test_a_non_object_is_refused() -> None:
    with pytest.raises(AlarmDefinitionError):
        AlarmDefinition.from_json(["not", "an", "object"])  # type: ignore[arg-type]


def test_actions_for_each_state_and_actions_enabled() -> None:
    alarm = definition(AlarmActions=["log"], OKActions=["stop-run"])
    assert alarm.actions_for("ALARM") == ("log",)
    assert alarm.actions_for("OK") == ("stop-run",)
    assert alarm.actions_for("INSUFFICIENT_DATA") == ()
    assert definition(AlarmActions=["log"], ActionsEnabled=False).actions_for("ALARM") == ()
