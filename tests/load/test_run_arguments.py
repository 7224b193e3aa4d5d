"""Bad arguments to `rightsizer run`: one line on stderr, exit 2, nothing started or written."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from tests.load.conftest import Target

pytestmark = pytest.mark.slow

NO_USERS = "from locust import task\n\nX = 1\n"
BROKEN = "from locust import HttpUser\n\nclass U(HttpUser)\n    pass\n"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there now


def check_usage_error(finished: Any, *fragments: str) -> None:
    assert finished.returncode == 2, (finished.stdout, finished.stderr)
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert not finished.out.exists() or not any(finished.out.iterdir())


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--users", "3,x", "--step-time", "5"], ["--users: 'x' in '3,x' is not a whole number"]),
        (["--users", "0", "--step-time", "5"], ["--users: 0 in '0' is out of range"]),
        (["--step-time", "5"], ["--users: required"]),
        (["-f", "nope.py", "--users", "1", "--step-time", "5"], ["-f: no such file: nope.py"]),
        (["--users", "1", "--step-time", "5", "--host", "http://127.0.0.1:1", "--tasks", "2"],
         ["--tasks: fleet options do not apply with --host"]),
    ],
)  # fmt: skip
def test_bad_arguments(run_cli: Any, args: list[str], fragments: list[str]) -> None:
    check_usage_error(run_cli(*args), *fragments)


def test_unreachable_host_is_checked_up_front(run_cli: Any) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    finished = run_cli("--users", "1", "--step-time", "5", "--host", url)
    check_usage_error(finished, f"--host: cannot reach {url}", "start the service or fix the URL")


@pytest.mark.parametrize(
    ("file", "fragment"),
    [
        (("empty.py", NO_USERS), "no User class in it"),
        (("broken.py", BROKEN), "cannot load it: SyntaxError"),
    ],
)
def test_bad_locustfiles(
    run_cli: Any, target: Target, tmp_path: Path, file: tuple[str, str], fragment: str
) -> None:
    path = tmp_path / file[0]
    path.write_text(file[1])
    finished = run_cli("-f", str(path), "--users", "1", "--step-time", "5", "--host", target.url)
    check_usage_error(finished, fragment)


def test_a_bad_alarm_file_names_the_field(run_cli: Any, target: Target, tmp_path: Path) -> None:
    alarm = tmp_path / "alarm.json"
    alarm.write_text(
        '{"AlarmName": "cpu", "Namespace": "rightsizer", "MetricName": "CPUUtilization", '
        '"Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": "high", '
        '"ComparisonOperator": "GreaterThanThreshold"}'
    )
    finished = run_cli(
        "--users", "1", "--step-time", "5", "--host", target.url, "--alarm", str(alarm)
    )
    check_usage_error(finished, "Threshold", "alarm.json")
