"""The demo's threshold: read off the CPU-users curve at U* - g x T and checked by replay at
the production period; the fallback replay at the demo's period when the SLO never broke is
judged against the users a task carries within it (the knee when the SLO held past it), else
against CPU saturation."""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import pytest

from rightsizer.alarms.replay import ReplayGrid, base_alarm, read_run, replay
from rightsizer.analysis.answer import CURVE, build_answer
from rightsizer.analysis.recorded_run import load_run
from rightsizer.analysis.threshold import TABLE_GROWTH_PCTS
from rightsizer.demo.conclusion import (
    ThresholdChoice,
    check_by_replay,
    choose_threshold,
    conclude,
    curve_answer,
)
from rightsizer.demo.plan import DemoPlan
from rightsizer.rundir import RunDir
from rightsizer.slo import Slo
from tests.alarms.helpers import make_run
from tests.report.page import read

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


def test_the_replay_check_says_whether_the_threshold_fired_before_the_limit(
    tmp_path: Path,
) -> None:
    facts = read_run(make_run(tmp_path), GRID.base)
    # 60 s datapoints from T0: [120, 180) s averages the 3-user (18%) and 10-user (45%) steps,
    # 31.5%; the load passes 10 users when the 20-user step starts, 210 s after T0.
    early = check_by_replay(facts, 30.0, Slo(), 10)
    assert early.event == "the load passed 10 users"
    assert early.row.alarm.period == 60 and early.lead_s == pytest.approx(30.0)
    assert "fired 30 s before the load passed 10 users" in early.note
    # 40% waits for [180, 240) s: ALARM at 240 s, after the load passed 10 users.
    late = check_by_replay(facts, 40.0, Slo(), 10)
    assert late.lead_s is None and "did not fire before the load passed 10 users" in late.note
    # Without a limit in users the SLO break (the 20-user step, p95 3.2 s) is the event.
    assert check_by_replay(facts, 30.0, Slo(), None).event == "the SLO broke"


def test_the_demo_reads_its_threshold_off_the_cpu_curve(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    one = load_run(run.path)
    answer = build_answer(one)
    plan = DemoPlan(out=tmp_path)
    assert answer.users_per_task is not None
    limit = answer.users_per_task  # one task
    concluded = curve_answer(answer, plan, one, read_run(run, GRID.base), limit)
    assert concluded is not None and concluded.threshold_basis == CURVE
    # By hand: the alarm must fire at U* x (1 - 10% x 3 min) users; CPU between the measured
    # steps around it (1, 3, 10, 20 users: 8, 18, 45, 95%), floored.
    at = limit * (1 - plan.growth_pct / 100 * plan.reaction_s / 60)
    (u0, c0), (u1, c1) = next(
        (p, q) for p, q in itertools.pairwise(CURVE_POINTS) if p[0] <= at <= q[0]
    )
    assert concluded.alarm_users == math.floor(at)
    assert concluded.recommended_threshold == math.floor(c0 + (at - u0) / (u1 - u0) * (c1 - c0))
    assert concluded.reaction_time_s == plan.reaction_s and concluded.growth_pct == 10.0
    assert [r.growth_pct for r in concluded.threshold_table] == list(TABLE_GROWTH_PCTS)
    assert [(p.users, p.cpu) for p in concluded.cpu_curve] == CURVE_POINTS
    # The notes say how it was found and what the replay at 60 s showed.
    assert any(n.startswith("alarm threshold: the CPU at U* - g x T") for n in concluded.notes)
    assert any("at the production period (60 s, 1 of 1)" in n for n in concluded.notes)
    # No curve (no CPU measured): the demo falls back to the replay at its own period.
    bare = dataclasses.replace(one, steps=tuple(
        dataclasses.replace(s, cpu_utilization=None) for s in one.steps
    ))  # fmt: skip
    assert curve_answer(answer, plan, bare, read_run(run, GRID.base), limit) is None


CURVE_POINTS = [(1.0, 8.0), (3.0, 18.0), (10.0, 45.0), (20.0, 95.0)]


def test_the_report_shows_the_curve_and_the_table_of_thresholds(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs")
    conclusion = conclude(DemoPlan(out=tmp_path), run.path, None, tmp_path)
    answer = conclusion.answer
    page = read(conclusion.reports[0].read_text())
    assert "chart-cpu-threshold" in page.ids
    rows = page.rows("thresholds")
    assert len(rows) == len(answer.threshold_table) == len(TABLE_GROWTH_PCTS)
    chosen = [cells for attrs, cells in rows if attrs.get("class") == "chosen"]
    assert [c.text for c in chosen[0][1:]] == [
        str(answer.alarm_users),
        f"{answer.recommended_threshold:.0f}%",
    ]
