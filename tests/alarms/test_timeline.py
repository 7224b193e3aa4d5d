"""Evaluation over a series: periods aligned to the epoch, every boundary, every statistic."""

from __future__ import annotations

import math

import pytest

from rightsizer.alarms.state import AlarmState
from rightsizer.alarms.timeline import boundaries, datapoints_by_period, evaluate_series
from rightsizer.metrics.store import aggregate
from tests.alarms.helpers import T0, definition

OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA


def states(timeline: object) -> list[tuple[float, AlarmState]]:
    return [(e.time - T0, e.state) for e in timeline.evaluations]  # type: ignore[attr-defined]


def test_a_60_s_period_covers_whole_minutes_of_the_epoch() -> None:
    alarm = definition()
    # 14:03:59.9 belongs to [14:03, 14:04); 14:04:00.0 to the next period.
    samples = [(T0 + 239.9, 30.0), (T0 + 240.0, 10.0)]
    timeline = evaluate_series(alarm, samples)
    assert states(timeline) == [(180, INSUFFICIENT), (240, ALARM), (300, OK)]


def test_an_evaluation_at_t_sees_the_period_ending_at_t_as_its_newest() -> None:
    alarm = definition()
    timeline = evaluate_series(alarm, [(T0 + 61.0, 30.0)], T0 + 120, T0 + 120)
    (only,) = timeline.evaluations
    assert only.state is ALARM
    assert "(27/11/26 14:01:00)" in only.reason


def test_the_initial_state_is_insufficient_data() -> None:
    timeline = evaluate_series(definition(), [(T0 + 5.0, 10.0)])
    assert timeline.evaluations[0].state is INSUFFICIENT
    assert [(t.old_state, t.new_state) for t in timeline.transitions] == [(INSUFFICIENT, OK)]


@pytest.mark.parametrize("period", [10, 20, 30])
def test_high_resolution_periods_are_evaluated_at_their_own_boundaries(period: int) -> None:
    alarm = definition(Period=period)
    # One sample a second for 60 s, breaching in the second half only.
    samples = [(T0 + i + 0.5, 30.0 if i >= 30 else 10.0) for i in range(60)]
    timeline = evaluate_series(alarm, samples)
    times = [e.time - T0 for e in timeline.evaluations]
    assert times == list(range(0, 61, period))
    first_alarm = next(t.time - T0 for t in timeline.transitions if t.new_state is ALARM)
    # The first period wholly in the breaching half ends there (the 20 s period [20, 40)
    # straddles the change and averages exactly 20, which is not above 20).
    assert first_alarm == math.ceil(30 / period) * period + period


def test_boundaries_are_aligned_and_inclusive() -> None:
    assert list(boundaries(20, T0 + 5, T0 + 60)) == [int((T0 + s) // 20) for s in (20, 40, 60)]
    with pytest.raises(ValueError, match="evaluations"):
        boundaries(10, 0, 1e12)


@pytest.mark.parametrize(
    ("statistic", "value"),
    [
        ({"Statistic": "Average"}, 5.5),
        ({"Statistic": "Maximum"}, 10.0),
        ({"Statistic": "Minimum"}, 1.0),
        ({"Statistic": "Sum"}, 55.0),
        ({"Statistic": "SampleCount"}, 10.0),
        ({"ExtendedStatistic": "p90"}, 9.0),
        ({"ExtendedStatistic": "p99"}, 10.0),
        ({"ExtendedStatistic": "p50"}, 5.0),
    ],
)
def test_each_statistic_over_the_samples_of_a_period(
    statistic: dict[str, str], value: float
) -> None:
    fields = {"Statistic": None, **statistic}
    just_above = definition(Threshold=value - 0.001, **fields)
    at = definition(Threshold=value, **fields)
    samples = [(T0 + i, float(i + 1)) for i in range(10)]  # 1..10 within [T0, T0 + 60)
    assert evaluate_series(just_above, samples).evaluations[-1].state is ALARM
    assert evaluate_series(at, samples).evaluations[-1].state is OK


def test_transitions_only_where_the_state_changes() -> None:
    alarm = definition(Period=10)
    values = [30, 30, 30, 10, 10, 30]
    samples = [(T0 + 10 * i + 1, float(v)) for i, v in enumerate(values)]
    timeline = evaluate_series(alarm, samples)
    assert [e.state for e in timeline.evaluations] == [
        INSUFFICIENT,
        ALARM,
        ALARM,
        ALARM,
        OK,
        OK,
        ALARM,
    ]
    assert [(t.time - T0, t.new_state) for t in timeline.transitions] == [
        (10, ALARM),
        (40, OK),
        (60, ALARM),
    ]


def test_a_missing_period_reuses_older_datapoints_within_the_range() -> None:
    # 1 of 1 with range 3: a gap of one period re-evaluates the previous datapoint (as AWS).
    alarm = definition(Period=10)
    samples = [(T0 + 1, 30.0), (T0 + 31, 10.0)]
    timeline = evaluate_series(alarm, samples)
    assert [e.state for e in timeline.evaluations] == [INSUFFICIENT, ALARM, ALARM, ALARM, OK]
    # Three periods without data: INSUFFICIENT_DATA (treat missing = missing).
    late = evaluate_series(alarm, samples, T0, T0 + 80)
    assert late.evaluations[-1].state is INSUFFICIENT


def test_datapoints_group_like_the_metric_store() -> None:
    alarm = definition(Period=20, Statistic=None, ExtendedStatistic="p90")
    samples = [(T0 - 7.3 + 1.7 * i, float((i * 37) % 11)) for i in range(100)]
    points = datapoints_by_period(samples, alarm)
    stored = list(aggregate(samples, 20, alarm.statistic))
    assert [points[i] for i in sorted(points)] == stored
