"""Actions: log, webhook (a real HTTP server on port 0), command (a real shell), stop-run."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from rightsizer.alarms.actions import ActionRunner, notification
from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.state import AlarmState
from rightsizer.alarms.timeline import Transition
from tests.alarms.helpers import T0, definition

REASON = "Threshold Crossed: 1 out of the last 1 datapoints [30.0 (27/11/26 14:00:00)] was ..."


def transition(new: AlarmState = AlarmState.ALARM, old: AlarmState = AlarmState.OK) -> Transition:
    return Transition("cpu-high", T0 + 60, old, new, REASON, {"threshold": 20.0})


class Receiver:
    """A real HTTP server on 127.0.0.1:0 that keeps what was POSTed to it."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                receiver.headers.append(self.headers["Content-Type"])
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def runner(lines: list[str]) -> Iterator[ActionRunner]:
    r = ActionRunner(log=lines.append, command_timeout=5)
    yield r
    r.close()


def test_log_writes_one_line_with_the_reason(runner: ActionRunner, lines: list[str]) -> None:
    runner.on_transition(definition(AlarmActions=["log"]), transition())
    assert lines == [f"alarm cpu-high: OK -> ALARM: {REASON}"]
    assert runner.results[0].ok


def test_only_the_new_states_actions_run(runner: ActionRunner, lines: list[str]) -> None:
    alarm = definition(AlarmActions=["stop-run"], OKActions=["log"])
    runner.on_transition(alarm, transition(AlarmState.OK, AlarmState.ALARM))
    assert not runner.stop_requested.is_set()
    assert len(lines) == 1
    runner.on_transition(alarm, transition(AlarmState.INSUFFICIENT_DATA))
    assert len(lines) == 1
    assert runner.results[-1:] == runner.results[:1]  # nothing new ran


def test_stop_run_sets_the_event(runner: ActionRunner) -> None:
    runner.on_transition(definition(AlarmActions=["stop-run"]), transition())
    assert runner.stop_requested.is_set()


def test_arns_are_kept_not_run_and_said_once(runner: ActionRunner, lines: list[str]) -> None:
    arn = "arn:aws:sns:eu-west-1:123456789012:ops"
    alarm = definition(AlarmActions=[arn])
    runner.on_transition(alarm, transition())
    runner.on_transition(alarm, transition())
    assert lines == [f"{arn}: AWS actions are kept for export; rightsizer does not run them"]


def test_webhook_posts_an_sns_shaped_notification(runner: ActionRunner, receiver: Receiver) -> None:
    alarm = definition(
        AlarmDescription="CPU of the uploader", AlarmActions=[f"webhook:{receiver.url}"]
    )
    runner.on_transition(alarm, transition())
    assert runner.drain(10)
    (body,) = receiver.bodies
    assert receiver.headers == ["application/json"]
    assert body == notification(alarm, transition())
    assert body["AlarmName"] == "cpu-high"
    assert body["AlarmDescription"] == "CPU of the uploader"
    assert body["NewStateValue"] == "ALARM"
    assert body["OldStateValue"] == "OK"
    assert body["NewStateReason"] == REASON
    assert body["StateChangeTime"] == "2026-11-27T14:01:00.000+0000"
    trigger = body["Trigger"]
    assert trigger["MetricName"] == "CPUUtilization"
    assert trigger["Namespace"] == "rightsizer"
    assert trigger["Statistic"] == "AVERAGE"
    assert trigger["Dimensions"] == [{"value": "uploader", "name": "ServiceName"}]
    assert trigger["Period"] == 60
    assert trigger["EvaluationPeriods"] == 1
    assert trigger["ComparisonOperator"] == "GreaterThanThreshold"
    assert trigger["Threshold"] == 20.0
    assert trigger["TreatMissingData"] == "missing"
    assert runner.results[0].ok


def test_webhook_failures_are_recorded_not_raised(runner: ActionRunner, lines: list[str]) -> None:
    refusing = Receiver(status=500)
    closed = Receiver()
    closed.close()  # nothing listens on its port any more
    try:
        alarm = definition(AlarmActions=[f"webhook:{refusing.url}", f"webhook:{closed.url}"])
        runner.on_transition(alarm, transition())
        assert runner.drain(15)
    finally:
        refusing.close()
    assert [r.ok for r in runner.results] == [False, False]
    assert "HTTP 500" in runner.results[0].detail
    assert len(lines) == 2 and all("failed" in line for line in lines)


def test_command_gets_name_state_and_reason(runner: ActionRunner, tmp_path: Path) -> None:
    out = tmp_path / "env.txt"
    command = (
        'printf "%s|%s|%s|%s" "$RIGHTSIZER_ALARM_NAME" "$RIGHTSIZER_ALARM_STATE" '
        f'"$RIGHTSIZER_ALARM_OLD_STATE" "$RIGHTSIZER_ALARM_REASON" > {out}'
    )
    runner.on_transition(definition(AlarmActions=[f"command:{command}"]), transition())
    assert runner.drain(10)
    assert out.read_text() == f"cpu-high|ALARM|OK|{REASON}"
    assert runner.results[0].ok


def test_command_failure_and_timeout(lines: list[str]) -> None:
    runner = ActionRunner(log=lines.append, command_timeout=0.5)
    try:
        alarm = definition(AlarmActions=["command:echo broken; exit 3", "command:sleep 30"])
        started = time.monotonic()
        runner.on_transition(alarm, transition())
        assert runner.drain(10)
        assert time.monotonic() - started < 5
    finally:
        runner.close()
    failed, slow = runner.results
    assert not failed.ok and "exited 3" in failed.detail and "broken" in failed.detail
    assert not slow.ok and "timed out" in slow.detail


def test_actions_do_not_run_when_actions_are_disabled(
    runner: ActionRunner, lines: list[str]
) -> None:
    alarm = definition(AlarmActions=["log", "stop-run"], ActionsEnabled=False)
    runner.on_transition(alarm, transition())
    assert lines == []
    assert not runner.stop_requested.is_set()


def test_percentile_alarms_say_extended_statistic() -> None:
    alarm: AlarmDefinition = definition(Statistic=None, ExtendedStatistic="p95")
    trigger = notification(alarm, transition())["Trigger"]
    assert trigger["StatisticType"] == "ExtendedStatistic"
    assert trigger["ExtendedStatistic"] == "p95"
    assert "Statistic" not in trigger


def test_close_ends_a_command_still_running_and_skips_the_rest(
    lines: list[str], tmp_path: Path
) -> None:
    """A command may run 30 s; closing (the run is over) waits `timeout`, then ends ours by
    its PID's process group, so nothing outlives the run."""
    pid_file = tmp_path / "pid"
    runner = ActionRunner(log=lines.append, command_timeout=30)
    alarm = definition(
        AlarmActions=[f"command:echo $$ > {pid_file}; exec sleep 30", "command:echo late"]
    )
    runner.on_transition(alarm, transition())
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the command did not start"
        time.sleep(0.02)
    pid = int(pid_file.read_text())
    assert psutil.pid_exists(pid)
    started = time.monotonic()
    runner.close(timeout=0.5)
    assert time.monotonic() - started < 3  # not the command's 30 s
    assert not psutil.pid_exists(pid)
    slow, late = runner.results
    assert not slow.ok and "ended when the run ended" in slow.detail
    assert not late.ok and "not run" in late.detail


def test_close_lets_quick_actions_finish(lines: list[str], tmp_path: Path) -> None:
    out = tmp_path / "done"
    runner = ActionRunner(log=lines.append)
    runner.on_transition(definition(AlarmActions=[f"command:sleep 0.2; touch {out}"]), transition())
    runner.close()
    assert out.exists()
    assert [r.ok for r in runner.results] == [True]
