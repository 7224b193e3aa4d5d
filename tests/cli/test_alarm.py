"""`rightsizer alarm evaluate|replay|export` end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.rundir import write_json
from tests.alarms.helpers import alarm_document, make_run

ALARM = alarm_document()
POINTS = (
    "timestamp,value\n"
    "2026-11-27T14:03:10Z,30.2\n2026-11-27T14:03:50Z,30.2\n2026-11-27T14:04:30Z,12\n"
)
SPEC_REASON = (
    "Threshold Crossed: 1 out of the last 1 datapoints [30.2 (27/11/26 14:03:00)] was greater "
    "than the threshold (20.0) (minimum 1 datapoint for OK -> ALARM transition)."
)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    alarm, points = tmp_path / "alarm.json", tmp_path / "points.csv"
    alarm.write_text(json.dumps(ALARM))
    points.write_text(POINTS)
    return alarm, points


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_evaluate_prints_the_spec_document(files: tuple[Path, Path]) -> None:
    alarm, points = files
    code, stdout, stderr = invoke(
        "alarm", "evaluate", "--alarm", str(alarm), "--datapoints", str(points)
    )
    assert code == 0, stderr
    assert stdout.count("\n") == 1  # one JSON object on one line
    doc = json.loads(stdout)
    assert set(doc) == {"evaluations", "transitions"}
    assert doc["evaluations"][1] == {
        "time": "2026-11-27T14:04:00Z",
        "state": "ALARM",
        "reason": SPEC_REASON,
    }
    assert [(t["time"], t["from"], t["to"]) for t in doc["transitions"]] == [
        ("2026-11-27T14:04:00Z", "INSUFFICIENT_DATA", "ALARM"),
        ("2026-11-27T14:05:00Z", "ALARM", "OK"),
    ]
    assert doc["transitions"][0]["reason"] == SPEC_REASON


def test_evaluate_with_start_and_end(files: tuple[Path, Path]) -> None:
    alarm, points = files
    code, stdout, _ = invoke(
        "alarm",
        "evaluate",
        "--alarm",
        str(alarm),
        "--datapoints",
        str(points),
        "--start",
        "2026-11-27T14:00:00Z",
        "--end",
        "2026-11-27T14:10:00Z",
    )
    assert code == 0
    states = [e["state"] for e in json.loads(stdout)["evaluations"]]
    assert len(states) == 11
    assert states[4:7] == ["ALARM", "OK", "OK"]
    assert states[-1] == "INSUFFICIENT_DATA"  # no datapoint in the last 3 periods


@pytest.mark.parametrize(
    ("alarm_text", "points_text", "names"),
    [
        (json.dumps(ALARM | {"Period": 45}), POINTS, "Period:"),
        (json.dumps(ALARM | {"ComparisonOperator": "Above"}), POINTS, "ComparisonOperator:"),
        (json.dumps({k: v for k, v in ALARM.items() if k != "Threshold"}), POINTS, "Threshold:"),
        ("{not json", POINTS, "not valid JSON"),
        (json.dumps(ALARM), "", "empty file"),
        (json.dumps(ALARM), "time,value\n", "header must be timestamp,value"),
        (json.dumps(ALARM), "timestamp,value\n27/11/2026,1\n", "line 2: timestamp:"),
        (json.dumps(ALARM), "timestamp,value\n2026-11-27T14:03:10Z,high\n", "line 2: value:"),
        (json.dumps(ALARM), "timestamp,value\n", "no samples"),
    ],
)
def test_evaluate_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, alarm_text: str, points_text: str, names: str
) -> None:
    alarm, points = tmp_path / "alarm.json", tmp_path / "points.csv"
    alarm.write_text(alarm_text)
    points.write_text(points_text)
    code, stdout, stderr = invoke(
        "alarm", "evaluate", "--alarm", str(alarm), "--datapoints", str(points)
    )
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("error: ") and stderr.count("\n") == 1
    assert names in stderr


def test_evaluate_bad_times_and_missing_files(files: tuple[Path, Path], tmp_path: Path) -> None:
    alarm, points = files
    base = ["alarm", "evaluate", "--alarm", str(alarm), "--datapoints", str(points)]
    code, _, stderr = invoke(*base, "--start", "tomorrow")
    assert (code, stderr.split(":")[0:2]) == (2, ["error", " --start"])
    code, _, stderr = invoke(
        *base, "--start", "2026-11-28T00:00:00Z", "--end", "2026-11-27T00:00:00Z"
    )
    assert code == 2 and "--start" in stderr
    code, _, stderr = invoke(
        "alarm", "evaluate", "--alarm", str(tmp_path / "no.json"), "--datapoints", str(points)
    )
    assert code == 2 and "no such file" in stderr


def test_evaluate_through_the_installed_command(files: tuple[Path, Path]) -> None:
    alarm, points = files
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rightsizer",
            "alarm",
            "evaluate",
            "--alarm",
            str(alarm),
            "--datapoints",
            str(points),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["transitions"][0]["reason"] == SPEC_REASON


def test_replay_table_and_json(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    args = ["alarm", "replay", str(run.path), "--threshold", "5,20,30,50", "--period", "10,60"]
    code, stdout, stderr = invoke(*args)
    assert code == 0, stderr
    assert "Recommended: CPUUtilization Average > 30, period 10 s, 1 of 1 (lead +50 s)." in stdout
    code, stdout, _ = invoke(*args, "--json")
    doc = json.loads(stdout)
    assert len(doc["rows"]) == 8
    assert doc["recommended"]["threshold"] == 30.0
    assert doc["slo"] == {"p95_ms": 1000.0, "failure_pct": 1.0, "room": 0.5}
    assert doc["recommended"]["onset_s"] == 130.0


def test_replay_judges_by_the_runs_slo_unless_a_flag_says_otherwise(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    write_json(run.manifest_path, run.manifest() | {"slo": {"p95_ms": 600, "failure_pct": 2}})
    args = ["alarm", "replay", str(run.path), "--threshold", "20", "--period", "10", "--json"]
    code, stdout, stderr = invoke(*args)
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert doc["slo"] == {"p95_ms": 600.0, "failure_pct": 2.0, "room": 0.5}
    assert doc["rows"][0]["slo_break_s"] == 120.0  # the 600 ms step, at the limit
    code, stdout, _ = invoke(*args, "--slo-p95-ms", "5000")
    doc = json.loads(stdout)
    assert doc["slo"] == {"p95_ms": 5000.0, "failure_pct": 2.0, "room": 0.5}
    assert doc["rows"][0]["slo_break_s"] == 180.0  # the 5 % failures step


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--threshold", "20,abc", "--period", "10"], "--threshold"),
        (["--threshold", "20", "--period", "45"], "--period"),
        (["--threshold", "20", "--period", "10", "--comparison", "Bigger"], "--comparison"),
        (["--threshold", "20", "--period", "10", "--statistic", "Median"], "--statistic"),
        (["--threshold", "20", "--period", "10", "--dimension", "TaskId"], "--dimension"),
        (
            [
                "--threshold",
                "20",
                "--period",
                "10",
                "--evaluation-periods",
                "1",
                "--datapoints-to-alarm",
                "3",
            ],
            "--datapoints-to-alarm",
        ),
        (["--threshold", "20", "--period", "10", "--slo-p95-ms", "0"], "--slo-p95-ms"),
        # one SLO rule for every command: `run` refuses 150% failures, and so does replay
        (["--threshold", "20", "--period", "10", "--slo-failures", "150"], "--slo-failures"),
    ],
)
def test_replay_bad_flags_are_named(tmp_path: Path, extra: list[str], flag: str) -> None:
    run = make_run(tmp_path)
    code, _, stderr = invoke("alarm", "replay", str(run.path), *extra)
    assert code == 2
    assert stderr.startswith(f"error: {flag}: ") and stderr.count("\n") == 1


def test_replay_of_a_non_run(tmp_path: Path) -> None:
    code, _, stderr = invoke(
        "alarm", "replay", str(tmp_path), "--threshold", "20", "--period", "10"
    )
    assert code == 2 and "not a run directory" in stderr


def test_export_each_format(files: tuple[Path, Path], tmp_path: Path) -> None:
    alarm, _ = files
    code, stdout, _ = invoke("alarm", "export", "--alarm", str(alarm), "--format", "cloudwatch")
    assert code == 0 and json.loads(stdout) == ALARM | {
        "ActionsEnabled": True,
        "DatapointsToAlarm": 1,
        "Threshold": 20.0,
        "TreatMissingData": "missing",
    }
    code, stdout, _ = invoke("alarm", "export", "--alarm", str(alarm), "--format", "cloudformation")
    assert code == 0 and 'Type: "AWS::CloudWatch::Alarm"' in stdout
    target = tmp_path / "rules.yml"
    code, stdout, _ = invoke(
        "alarm", "export", "--alarm", str(alarm), "--format", "prometheus", "--out", str(target)
    )
    assert code == 0 and stdout == "" and "rightsizer_cpu_utilization" in target.read_text()
    code, _, stderr = invoke("alarm", "export", "--alarm", str(alarm), "--format", "zabbix")
    assert code == 2 and stderr.startswith("error: --format:")


def test_export_from_rightsizer_toml(tmp_path: Path) -> None:
    config = tmp_path / "rightsizer.toml"
    config.write_text(
        '[[alarm]]\nAlarmName = "cpu"\nNamespace = "rightsizer"\nMetricName = "CPUUtilization"\n'
        'Statistic = "Maximum"\nPeriod = 10\nEvaluationPeriods = 2\nThreshold = 50\n'
        'ComparisonOperator = "GreaterThanOrEqualToThreshold"\nAlarmActions = ["log"]\n'
    )
    code, stdout, stderr = invoke(
        "alarm", "export", "--config", str(config), "--format", "cloudwatch"
    )
    assert code == 0
    assert json.loads(stdout)["Statistic"] == "Maximum"
    assert "own actions" in stderr
    code, stdout, _ = invoke("--config", str(config), "alarm", "export", "--format", "prometheus")
    assert code == 0 and "max_over_time" in stdout
    config.write_text('[[alarm]]\nAlarmName = "cpu"\n')
    code, _, stderr = invoke("alarm", "export", "--config", str(config), "--format", "cloudwatch")
    assert code == 2 and "alarm[0]" in stderr
