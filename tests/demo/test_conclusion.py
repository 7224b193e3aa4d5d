"""The demo's threshold choice when the SLO never broke: judged against the users a task
carries within it (the knee when the SLO held past it), else against CPU saturation."""

from __future__ import annotations

from pathlib import Path

from rightsizer.alarms.replay import ReplayGrid, base_alarm, read_run, replay
from rightsizer.demo.conclusion import ThresholdChoice, choose_threshold
from rightsizer.rundir import RunDir
from rightsizer.slo import Slo
from tests.alarms.helpers import make_run

LAX = Slo(p95_ms=10_000, failure_pct=50)  # the synthetic run never breaks it


GRID = ReplayGrid(base_alarm("CPUUtilization"), (20, 30, 50), (10,))


def choose(run: RunDir, slo: Slo, limit_users: float | None) -> ThresholdChoice:
    return choose_threshold(read_run(run, GRID.base), GRID, slo, limit_users)


def test_without_an_slo_break_the_limit_in_users_is_the_event(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    assert all(r.slo_break_s is None for r in replay(run, GRID, LAX))  # LAX never breaks
    choice = choose(run, LAX, 3)
    # The 10-user step (CPU 45 %) starts 120 s into the load; 20 % fired there, not before
    # (the 3-user step reads 18 %): nothing fired a whole period early, so the coarse figure.
    assert choice.event == "the load passed 3 users"
    choice = choose(run, LAX, 10)
    # The 20-user step (CPU 95 %) starts 180 s in; 30 % fired in the 10-user step, a whole
    # period and more before; 50 % only in the 20-user step.
    assert choice.row is not None and choice.row.alarm.threshold == 30.0
    assert choice.row.slo_break_s == 180.0
    assert choice.row.lead_time_s is not None and choice.row.lead_time_s >= 10
    assert choice.event == "the load passed 10 users"
    assert choice.note is not None and "passed 10 users" in choice.note


def test_without_a_limit_cpu_saturation_is_the_event(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    for limit in (None, 50.0):  # unknown, or above every step
        choice = choose(run, LAX, limit)
        assert choice.event == "the task's CPU saturated"  # the 20-user step, 95 %
        assert choice.row is not None and choice.row.alarm.threshold == 30.0
        assert choice.row.slo_break_s == 180.0


def test_the_plain_replay_answer_needs_no_stand_in(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    choice = choose(run, Slo(), 10)
    assert choice.row is not None and choice.note is None
    assert choice.event == "the SLO broke"
