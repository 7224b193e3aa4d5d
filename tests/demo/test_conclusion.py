"""The demo's threshold choice when the SLO never broke: judged against the users a task
carries within it (the knee when the SLO held past it)."""

from __future__ import annotations

from pathlib import Path

from rightsizer.alarms.replay import ReplayGrid, base_alarm, replay
from rightsizer.demo.conclusion import choose_threshold
from rightsizer.slo import Slo
from tests.alarms.helpers import make_run

LAX = Slo(p95_ms=10_000, failure_pct=50)  # the synthetic run never breaks it


def test_without_an_slo_break_the_limit_in_users_is_the_event(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    rows = replay(run, ReplayGrid(base_alarm("CPUUtilization"), (20, 30, 50), (10,)), LAX)
    assert all(r.slo_break_s is None for r in rows)
    best, note = choose_threshold(rows, run.path, limit_users=10)
    # The 20-user step (CPU 95 %) starts 180 s into the load; 30 % fired in the 10-user step
    # (45 %) a whole period and more before; 50 % only in the 20-user step.
    assert best is not None and best.alarm.threshold == 30.0
    assert best.slo_break_s == 180.0
    assert best.lead_time_s is not None and best.lead_time_s >= 10
    assert note is not None and "passed 10 users" in note


def test_without_an_slo_break_or_a_limit_there_is_no_threshold(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    rows = replay(run, ReplayGrid(base_alarm("CPUUtilization"), (20, 30), (10,)), LAX)
    assert choose_threshold(rows, run.path, limit_users=None) == (None, None)
    # A limit above every step: nothing to be early for.
    assert choose_threshold(rows, run.path, limit_users=50) == (None, None)
