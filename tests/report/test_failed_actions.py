"""An alarm action that failed during the run shows in its report, beside the alarm."""

from __future__ import annotations

from pathlib import Path

from rightsizer.alarms.history import ActionResult, append_action, read_history
from rightsizer.report.html import write_report


def test_a_failed_action_is_listed_under_its_alarm(one_task: Path) -> None:
    (first, *_) = read_history(one_task / "metrics.db")
    failed = ActionResult(
        first.alarm_name, "webhook:http://127.0.0.1:9/x", first.new_state, False,
        "ConnectError: connection refused", first.timestamp, first.timestamp + 1.5,
    )  # fmt: skip
    ran = ActionResult(
        first.alarm_name, "command:true", first.new_state, True, "exit 0",
        first.timestamp, first.timestamp + 0.2,
    )  # fmt: skip
    append_action(one_task / "metrics.db", failed)
    append_action(one_task / "metrics.db", ran)
    page = write_report(one_task).report.read_text()
    assert f'class="failed-actions" data-alarm="{first.alarm_name}"' in page
    assert "webhook:http://127.0.0.1:9/x: ConnectError: connection refused" in page
    assert "command:true" not in page  # only failures are listed


def test_without_failures_there_is_no_list(one_task: Path) -> None:
    assert "failed-actions" not in write_report(one_task).report.read_text()
