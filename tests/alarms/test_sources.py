"""Alarm definitions from JSON files and from rightsizer.toml's [[alarm]] tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rightsizer.alarms.sources import load_alarms, load_definition_file, seed_alarm
from rightsizer.errors import AlarmDefinitionError, ConfigError, UsageError

ALARM = {
    "AlarmName": "cpu-high",
    "Namespace": "rightsizer",
    "MetricName": "CPUUtilization",
    "Statistic": "Average",
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 20,
    "ComparisonOperator": "GreaterThanThreshold",
}

TOML = """
tasks = 1

[[alarm]]
AlarmName = "cpu-high"
Namespace = "rightsizer"
MetricName = "CPUUtilization"
Dimensions = [{Name = "ServiceName", Value = "uploader"}]
Statistic = "Average"
Period = 10
EvaluationPeriods = 3
DatapointsToAlarm = 2
Threshold = 20
ComparisonOperator = "GreaterThanThreshold"
AlarmActions = ["log", "stop-run"]

[[alarm]]
AlarmName = "p95-slow"
Namespace = "rightsizer"
MetricName = "ClientResponseTime"
ExtendedStatistic = "p95"
Period = 60
EvaluationPeriods = 1
Threshold = 1000.5
ComparisonOperator = "GreaterThanOrEqualToThreshold"
"""


def test_one_object_or_a_list_per_file(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(ALARM))
    many = tmp_path / "many.json"
    many.write_text(json.dumps([ALARM | {"AlarmName": "a"}, ALARM | {"AlarmName": "b"}]))
    assert [a.name for a in load_definition_file(one)] == ["cpu-high"]
    assert [a.name for a in load_alarms([one, many])] == ["cpu-high", "a", "b"]


def test_errors_name_the_field_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cpu.json"
    path.write_text(json.dumps(ALARM | {"Threshold": "20"}))
    with pytest.raises(AlarmDefinitionError, match=r"^Threshold: .*\(in .*cpu\.json\)$"):
        load_definition_file(path)
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([ALARM, ALARM | {"Period": 7}]))
    with pytest.raises(AlarmDefinitionError, match=r"^Period: .*list\.json\[1\]"):
        load_definition_file(listed)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ('"cpu"', "expected a PutMetricAlarm JSON object"),
        ("[1]", "expected a PutMetricAlarm JSON object"),
    ],
)
def test_broken_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(AlarmDefinitionError, match=message):
        load_definition_file(path)


def test_hostile_files(tmp_path: Path) -> None:
    with pytest.raises(AlarmDefinitionError, match="no such file"):
        load_definition_file(tmp_path / "nope.json")
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (1024 * 1024 + 1))
    with pytest.raises(AlarmDefinitionError, match="larger than 1 MiB"):
        load_definition_file(huge)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(AlarmDefinitionError, match="cannot read"):
        load_definition_file(binary)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text(json.dumps([ALARM, ALARM]))
    with pytest.raises(AlarmDefinitionError, match="defined twice"):
        load_definition_file(path)


def test_alarm_tables_of_rightsizer_toml(tmp_path: Path) -> None:
    (tmp_path / "rightsizer.toml").write_text(TOML)
    alarms = load_alarms([], env={}, cwd=tmp_path)
    assert [a.name for a in alarms] == ["cpu-high", "p95-slow"]
    assert alarms[0].alarm_actions == ("log", "stop-run")
    assert alarms[0].datapoints_to_alarm == 2
    assert alarms[1].statistic.name == "p95"
    assert alarms[1].threshold == 1000.5


def test_toml_errors_name_the_table(tmp_path: Path) -> None:
    config = tmp_path / "custom.toml"
    config.write_text(TOML.replace("Period = 60", "Period = 61"))
    with pytest.raises(
        AlarmDefinitionError, match=r"^Period: .*\(in .*custom\.toml: alarm\[1\]\)$"
    ):
        load_alarms([], config, env={}, cwd=tmp_path)
    config.write_text("alarm = 3\n")
    with pytest.raises(AlarmDefinitionError, match=r"\[\[alarm\]\] tables"):
        load_alarms([], config, env={}, cwd=tmp_path)
    config.write_text("[[alarm\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_alarms([], config, env={}, cwd=tmp_path)


def test_no_alarms_anywhere(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no alarms"):
        load_alarms([], env={}, cwd=tmp_path)
    (tmp_path / "rightsizer.toml").write_text("tasks = 2\n")
    with pytest.raises(UsageError, match="no \\[\\[alarm\\]\\] tables"):
        load_alarms([], env={}, cwd=tmp_path)


def test_the_seed_alarm() -> None:
    alarm = seed_alarm(period=10)
    assert (alarm.metric_name, alarm.threshold, alarm.period) == ("CPUUtilization", 20.0, 10)
    assert alarm.dimension_map == {"ServiceName": "uploader"}
    assert alarm.comparison.symbol == ">"
    assert alarm.alarm_actions == ("log",)
    assert seed_alarm().period == 60
