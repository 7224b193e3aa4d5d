"""Steps the web UI sets: one per new user count, ended by Stop or by the run."""

from __future__ import annotations

import pytest

from rightsizer.errors import UsageError
from rightsizer.load.ui_steps import UiSteps, ui_plan


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_new_user_count_is_a_step() -> None:
    clock, stops = Clock(), []
    steps = UiSteps(lambda: stops.append(1), clock)
    assert steps.started_at is None and not steps.steady(clock.now)
    assert steps.begin(3)
    clock.now += 20
    assert not steps.begin(3)  # only the spawn rate changed: the same step
    assert steps.begin(20)
    assert (steps.step, steps.step_users, steps.step_starts) == (1, [3, 20], [1000.0, 1020.0])
    assert steps.started_at == 1000.0
    assert stops == []


def test_finish_stops_the_users_once_and_ends_the_steps() -> None:
    clock, stops = Clock(), []
    steps = UiSteps(lambda: stops.append(1), clock)
    steps.begin(2)
    clock.now += 5
    steps.finish()
    steps.finish()
    assert stops == [1] and steps.ended_at == 1005.0
    assert not steps.begin(4)  # after the end, no more steps
    assert steps.step_users == [2]


def test_a_stop_in_the_ui_ends_without_stopping_again() -> None:
    clock, stops = Clock(), []
    steps = UiSteps(lambda: stops.append(1), clock)
    steps.stopped()
    steps.finish()
    assert stops == [] and steps.ended_at == 1000.0


def test_steady_after_the_first_seconds_of_a_step() -> None:
    clock = Clock()
    steps = UiSteps(lambda: None, clock)
    assert not steps.steady(clock.now)
    steps.begin(5)
    assert not steps.steady(clock.now + 1)  # users still arriving: ramp-up
    assert steps.steady(clock.now + 60)  # a minute in: the step's steady part
    steps.stopped()
    assert not steps.steady(clock.now + 60)


def test_the_ui_plan_has_no_steps_and_checks_its_values() -> None:
    plan = ui_plan(0.3, None, 5.0)
    assert (plan.users, plan.step_time, plan.search, plan.warmup, plan.cooldown) == (
        (), 0.0, None, 0.3, 5.0,
    )  # fmt: skip
    with pytest.raises(UsageError, match="--warmup"):
        ui_plan(2.0, None, 5.0)
