"""`rightsizer alarm pull|push` against the emulator: what CloudWatch holds, checked with
boto3's own calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from rightsizer.cli import app
from tests.aws.conftest import Aws


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def cpu_alarm(aws: Aws, **fields: Any) -> dict[str, Any]:
    """The seed's alarm on the ECS service's CPU, as put-metric-alarm JSON."""
    doc: dict[str, Any] = {
        "AlarmName": aws.name("cpu-high"),
        "ActionsEnabled": True,
        "AlarmActions": ["arn:aws:sns:eu-west-1:123456789012:ops"],
        "MetricName": "CPUUtilization",
        "Namespace": "AWS/ECS",
        "Statistic": "Average",
        "Dimensions": [
            {"Name": "ClusterName", "Value": "seed"},
            {"Name": "ServiceName", "Value": "uploader"},
        ],
        "Period": 60,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2,
        "Threshold": 20.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "missing",
    }
    return doc | fields


def deployed(aws: Aws, name: str) -> dict[str, Any]:
    reply = aws.client("cloudwatch").describe_alarms(AlarmNames=[name])
    [alarm] = reply["MetricAlarms"]
    return dict(alarm)


def test_pull_writes_the_deployed_alarm_as_put_metric_alarm_json(aws: Aws, tmp_path: Path) -> None:
    sent = cpu_alarm(aws)
    aws.client("cloudwatch").put_metric_alarm(**sent)
    code, stdout, stderr = invoke("alarm", "pull", sent["AlarmName"])
    assert code == 0, stderr
    assert json.loads(stdout) == sent
    out = tmp_path / "pulled.json"
    code, _, stderr = invoke("alarm", "pull", sent["AlarmName"], "--out", str(out))
    assert code == 0, stderr
    assert json.loads(out.read_text()) == sent


def test_pull_of_an_unknown_alarm_is_one_line(aws: Aws) -> None:
    code, _, stderr = invoke("alarm", "pull", aws.name("nothing"))
    assert code == 2
    assert "no such alarm in CloudWatch" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_push_deploys_the_file_with_a_new_threshold(aws: Aws, tmp_path: Path) -> None:
    sent = cpu_alarm(aws)
    path = tmp_path / "alarm.json"
    path.write_text(json.dumps(sent))
    code, _, stderr = invoke("alarm", "push", str(path), "--threshold", "35")
    assert code == 0, stderr
    alarm = deployed(aws, sent["AlarmName"])
    assert alarm["Threshold"] == 35.0
    assert alarm["EvaluationPeriods"] == 3 and alarm["DatapointsToAlarm"] == 2
    assert alarm["AlarmActions"] == sent["AlarmActions"]
    assert alarm["Dimensions"] == sent["Dimensions"]


def test_push_dry_run_prints_the_difference_and_changes_nothing(aws: Aws, tmp_path: Path) -> None:
    sent = cpu_alarm(aws)
    aws.client("cloudwatch").put_metric_alarm(**sent)
    path = tmp_path / "alarm.json"
    path.write_text(json.dumps(cpu_alarm(aws, EvaluationPeriods=5)))
    code, stdout, stderr = invoke("alarm", "push", str(path), "--threshold", "35", "--dry-run")
    assert code == 0, stderr
    lines = [line.strip() for line in stdout.splitlines()]
    assert "Threshold: 20.0 -> 35.0" in lines
    assert "EvaluationPeriods: 3 -> 5" in lines
    assert len(lines) == 2, stdout  # nothing else differs
    assert deployed(aws, sent["AlarmName"])["Threshold"] == 20.0

    path.write_text(json.dumps(sent))
    code, stdout, _ = invoke("alarm", "push", str(path), "--dry-run")
    assert code == 0
    assert "nothing to change" in stdout


def test_push_dry_run_of_a_new_alarm_lists_what_it_would_create(aws: Aws, tmp_path: Path) -> None:
    path = tmp_path / "alarm.json"
    path.write_text(json.dumps(cpu_alarm(aws, AlarmName=aws.name("new"))))
    code, stdout, stderr = invoke("alarm", "push", str(path), "--dry-run")
    assert code == 0, stderr
    assert "not deployed" in stdout
    assert "Threshold: (none) -> 20.0" in stdout
    reply = aws.client("cloudwatch").describe_alarms(AlarmNames=[aws.name("new")])
    assert reply["MetricAlarms"] == []


def test_push_refuses_a_bad_threshold_in_one_line(aws: Aws, tmp_path: Path) -> None:
    path = tmp_path / "alarm.json"
    path.write_text(json.dumps(cpu_alarm(aws)))
    code, _, stderr = invoke("alarm", "push", str(path), "--threshold", "nan")
    assert code == 2
    assert "--threshold" in stderr
