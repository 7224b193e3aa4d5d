"""The threshold rule: the CPU at U* - g x T on the measured CPU-users curve."""

from __future__ import annotations

import pytest

from rightsizer.analysis.answer import CURVE, Answer
from rightsizer.analysis.threshold import (
    GROWTH_PCT,
    REACTION_S,
    CpuCurve,
    curve_threshold,
    threshold_table,
)
from tests.analysis.helpers import step

# CPU 0.2% a user up to 400 users, then flattening: 95% at 500.
LINE = [(100, 20.0), (200, 40.0), (300, 60.0), (400, 80.0), (500, 95.0)]


def curve_of(points: list[tuple[int, float]], tasks: int = 1) -> CpuCurve:
    steps = [step(users, i, cpu_utilization=cpu) for i, (users, cpu) in enumerate(points)]
    curve = CpuCurve.from_steps(steps, tasks)
    assert curve is not None
    return curve


def test_the_threshold_is_the_cpu_at_the_limit_less_growth_times_reaction() -> None:
    curve = curve_of(LINE)
    # U* 500, g 10% of U* a minute = 50 users a minute, T 180 s = 3 min: alarm at
    # 500 - 150 = 350 users, halfway between 60% and 80%: 70%.
    row = curve_threshold(curve, 500, reaction_s=180, growth_pct=10)
    assert (row.growth_users, row.alarm_users, row.threshold) == (50.0, 350, 70.0)
    # g 20%: 100 users a minute, alarm at 200 users: 40%. A shorter T (60 s): 450, 87.5 -> 87.
    assert curve_threshold(curve, 500, 180, 20).threshold == 40.0
    assert curve_threshold(curve, 500, 60, 10).threshold == 87.0
    # Below the first step the curve runs to the origin: 50 users read 10%.
    assert curve.cpu_at(50) == pytest.approx(10.0)
    # At 40% a minute the load crosses all of U* within T: no threshold leaves time.
    late = curve_threshold(curve, 500, 180, 40)
    assert late.alarm_users is None and late.threshold is None


def test_the_defaults_put_the_alarm_at_seventy_percent_of_the_limit() -> None:
    row = curve_threshold(curve_of(LINE), 500, REACTION_S, GROWTH_PCT)
    assert row.alarm_users == 350  # 70% of U*: the load a task carries with 30% headroom


def test_a_dip_in_measured_cpu_is_pooled_so_the_curve_never_falls() -> None:
    # 300 users read 65%, 400 users 55% (noise): both become their mean, 60%.
    curve = curve_of([(100, 20.0), (200, 40.0), (300, 65.0), (400, 55.0), (500, 95.0)])
    fitted = [p.fitted for p in curve.points]
    assert fitted == sorted(fitted)
    assert fitted[2:4] == [60.0, 60.0]
    assert curve.cpu_at(350) == pytest.approx(60.0)
    assert [p.cpu for p in curve.points][2:4] == [65.0, 55.0]  # the measurements are kept


def test_users_are_divided_among_tasks_and_repeated_steps_averaged() -> None:
    curve = curve_of([(400, 20.0), (800, 40.0), (800, 50.0)], tasks=4)
    assert [(p.users, p.cpu) for p in curve.points] == [(100.0, 20.0), (200.0, 45.0)]
    assert curve.cpu_at(201) is None  # past the highest step: not measured
    assert CpuCurve.from_steps([step(10, 0)], 1) is None  # no CPU figure at all


def test_the_table_is_slowest_growth_first_and_the_threshold_falls_as_growth_rises() -> None:
    table = threshold_table(curve_of(LINE), 500, 180, (20.0, 2.0, 10.0, 5.0))
    assert [r.growth_pct for r in table] == [2.0, 5.0, 10.0, 20.0]
    thresholds = [r.threshold for r in table]
    assert thresholds == sorted(thresholds, reverse=True, key=lambda t: t or 0.0)
    assert table[0].alarm_users == 470  # 500 - 10 x 3


def test_the_answer_keeps_the_rule_through_answer_json() -> None:
    curve = curve_of(LINE)
    answer = Answer(
        users_per_task=500,
        recommended_threshold=70.0,
        threshold_basis=CURVE,
        reaction_time_s=180.0,
        growth_pct=10.0,
        alarm_users=350,
        threshold_period_s=60,
        threshold_table=threshold_table(curve, 500, 180),
        cpu_curve=curve.points,
    )
    again = Answer.from_json(answer.to_json())
    assert again == answer
    line = next(t for t in again.lines() if t.startswith("CPU alarm threshold"))
    assert "350 users" in line and "T 180 s" in line and "70%" in line
