"""The run's alarms: the seed alarm is the one of rightsizer.alarms.sources, and the cooldown
lasts until every alarm has been evaluated on periods that all began after the load."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightsizer.alarms.sources import seed_alarm
from rightsizer.alarms.state import AlarmState
from rightsizer.alarms.timeline import Transition
from rightsizer.load.alarm_hook import (
    AlarmWatch,
    after_load_boundary,
    cooldown_wish,
    default_alarm,
    select_alarms,
)
from tests.alarms.helpers import T0, definition


def test_without_files_or_tables_the_user_gave_no_alarm(tmp_path: Path) -> None:
    assert select_alarms((), None, env={}, cwd=tmp_path) == []


@pytest.mark.parametrize(
    ("step_time", "period"), [(6, 10), (10, 10), (29, 10), (45, 30), (60, 60), (600, 60)]
)
def test_the_default_alarm_is_the_seeds_with_a_period_that_fits_a_step(
    step_time: float, period: int
) -> None:
    alarm = default_alarm(step_time)
    assert alarm.to_json() == seed_alarm(period=period, actions=()).to_json()


@pytest.mark.parametrize(
    ("period", "n", "load_end", "expected"),
    [
        (60, 1, T0 + 5, T0 + 120),  # [+60, +120) is the first minute wholly after the load
        (60, 1, T0, T0 + 60),  # a load ending on a boundary: the very next minute
        (10, 1, T0 + 0.2, T0 + 20),
        (10, 3, T0 + 0.2, T0 + 40),  # three periods, all after the load
    ],
)
def test_after_load_boundary(period: int, n: int, load_end: float, expected: float) -> None:
    alarm = definition(Period=period, EvaluationPeriods=n)
    boundary = after_load_boundary(alarm, load_end)
    assert boundary == expected
    assert boundary - n * period >= load_end  # the evaluated periods began after the load


def test_cooldown_waits_for_the_slowest_alarm_plus_settle() -> None:
    fast = definition(AlarmName="fast", Period=10)
    slow = definition(AlarmName="slow", Period=60)
    wish = cooldown_wish([fast, slow], T0 + 5, settle=0.3)
    assert wish is not None
    assert (wish.alarm.name, wish.until, wish.capped) == ("slow", T0 + 120.3, False)
    text = wish.describe(T0 + 5)
    assert "at least until 14:02:00 UTC (115 s after the load)" in text
    assert "slow (60 s x 1)" in text
    assert cooldown_wish([], T0) is None


def test_the_cap_bounds_a_long_alarm() -> None:
    daily = definition(AlarmName="daily", Period=3600, EvaluationPeriods=2)
    wish = cooldown_wish([daily], T0 + 5)
    assert wish is not None and wish.capped
    assert wish.needed >= T0 + 7200  # two whole hours after the load ...
    assert wish.until == T0 + 5 + 600  # ... but the README promises at most 10 minutes
    assert "capped at 600 s" in wish.describe(T0 + 5)


def test_the_watch_wishes_only_when_the_user_left_the_cooldown_open() -> None:
    lines: list[str] = []
    auto = AlarmWatch([definition(Period=10)], lines.append)
    assert auto.cooldown_until(T0 + 3) == pytest.approx(T0 + 20.3)
    assert len(lines) == 1 and lines[0].startswith("cooling down at least until")
    fixed = AlarmWatch([definition(Period=10)], lines.append, extend_cooldown=False)
    assert fixed.cooldown_until(T0 + 3) is None
    assert AlarmWatch([], lines.append).cooldown_until(T0 + 3) is None
    assert len(lines) == 1
    fixed.client_series_complete(T0)  # no live evaluator yet: nothing to tell, no error


def test_a_transition_is_said_once() -> None:
    lines: list[str] = []
    logged = definition(AlarmName="logged", AlarmActions=["log"])
    quiet = definition(AlarmName="quiet")
    watch = AlarmWatch([logged, quiet], lines.append)
    for name in ("logged", "quiet"):
        watch._on_transition(
            Transition(name, T0, AlarmState.OK, AlarmState.ALARM, "Threshold Crossed", {})
        )
    # The `log` action prints the first (ActionRunner); the watch prints the other.
    assert lines == ["alarm quiet: OK -> ALARM (Threshold Crossed)"]
    assert [t["alarm"] for t in watch.transitions] == ["logged", "quiet"]
