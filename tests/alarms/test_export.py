"""Export to CloudWatch JSON, a CloudFormation template and Prometheus rules."""

from __future__ import annotations

import json

import pytest

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.export import export, prometheus_name, snake_case
from rightsizer.metrics import names
from rightsizer.yaml_text import yaml_lines
from tests.alarms.helpers import definition

yaml = pytest.importorskip("yaml")  # PyYAML comes with uvicorn[standard]; used to read back

SEED = definition(
    AlarmDescription='The seed\'s alarm: "CPU > 20 %"',
    AlarmActions=["arn:aws:sns:eu-west-1:123456789012:ops", "log", "stop-run"],
    OKActions=["webhook:https://example.test/x"],
)


def test_cloudwatch_is_put_metric_alarm_json_with_arn_actions_only() -> None:
    doc = json.loads(export([SEED], "cloudwatch"))
    assert doc["AlarmActions"] == ["arn:aws:sns:eu-west-1:123456789012:ops"]
    assert "OKActions" not in doc
    assert AlarmDefinition.from_json(doc).threshold == 20.0
    several = json.loads(export([SEED, definition(AlarmName="b")], "cloudwatch"))
    assert [d["AlarmName"] for d in several] == ["cpu-high", "b"]


def test_cloudformation_template() -> None:
    p95 = definition(
        AlarmName="p95 slow!",
        Statistic=None,
        ExtendedStatistic="p95",
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Tags=[{"Key": "a", "Value": "b"}],
    )
    template = yaml.safe_load(
        export([SEED, p95, definition(AlarmName="p95-slow")], "cloudformation")
    )
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    resources = template["Resources"]
    assert list(resources) == ["AlarmCpuHigh", "AlarmP95Slow", "AlarmP95Slow2"]
    props = resources["AlarmCpuHigh"]["Properties"]
    assert resources["AlarmCpuHigh"]["Type"] == "AWS::CloudWatch::Alarm"
    assert props["AlarmDescription"] == SEED.description
    assert props["AlarmActions"] == ["arn:aws:sns:eu-west-1:123456789012:ops"]
    assert props["Threshold"] == 20.0 and props["Period"] == 60
    assert props["Dimensions"] == [{"Name": "ServiceName", "Value": "uploader"}]
    slow = resources["AlarmP95Slow"]["Properties"]
    assert slow["ExtendedStatistic"] == "p95" and "Statistic" not in slow
    assert slow["DatapointsToAlarm"] == 2
    assert "Tags" not in slow


def test_prometheus_rules() -> None:
    text = export(
        [
            SEED,
            definition(
                AlarmName="2of3",
                EvaluationPeriods=3,
                DatapointsToAlarm=2,
                Period=10,
                TreatMissingData="breaching",
                Statistic=None,
                ExtendedStatistic="p95",
            ),
        ],
        "prometheus",
    )
    assert text.startswith("# Exported by rightsizer")
    assert "M-of-N" in text  # the semantics that differ are written down
    rules = yaml.safe_load(text)["groups"][0]["rules"]
    seed, m_of_n = rules
    assert seed["alert"] == "cpu_high"
    assert seed["expr"] == (
        'avg_over_time(rightsizer_cpu_utilization{service_name="uploader",task_id=""}[60s]) > 20'
    )
    assert seed["for"] == "60s"
    assert "keep_firing_for" not in seed
    assert seed["annotations"]["cloudwatch_alarm_name"] == "cpu-high"
    assert m_of_n["alert"] == "alarm_2of3"
    assert m_of_n["expr"].startswith("(quantile_over_time(0.95, rightsizer_cpu_utilization{")
    assert m_of_n["expr"].endswith(
        ' or absent_over_time(rightsizer_cpu_utilization{service_name="uploader",task_id=""}[10s])'
    )
    assert m_of_n["for"] == "20s"  # Period x DatapointsToAlarm
    assert m_of_n["keep_firing_for"] == "10s"  # Period x (N - M)


def test_aws_namespaces_export_onto_rightsizer_series() -> None:
    ecs = definition(
        Namespace="AWS/ECS",
        Dimensions=[{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "web"}],
    )
    rule = yaml.safe_load(export([ecs], "prometheus"))["groups"][0]["rules"][0]
    assert 'rightsizer_cpu_utilization{service_name="web",task_id=""}' in rule["expr"]
    assert json.loads(export([ecs], "cloudwatch"))["Namespace"] == "AWS/ECS"


def test_names_match_what_metrics_serves() -> None:
    assert prometheus_name("CPUUtilization") == "rightsizer_cpu_utilization"
    assert snake_case("HTTPCode_Target_5XX_Count") == "http_code_target_5xx_count"
    assert snake_case("ClientRPS") == "client_rps"
    assert snake_case("TaskId") == "task_id"
    from rightsizer.metrics import prometheus as served

    catalogue = [v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)]
    for name in catalogue:
        assert snake_case(name) == served.snake(name), name


def test_yaml_emitter_quotes_what_needs_quoting() -> None:
    tree = {"a": ["x", {"b": None, "c": True}], "key with space": 'quo"te\n', "empty": []}
    assert yaml.safe_load("\n".join(yaml_lines(tree))) == tree


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        export([SEED], "nagios")
