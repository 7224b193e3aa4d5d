"""Reason strings byte for byte, and Java's Double.toString number format."""

from __future__ import annotations

import pytest

from rightsizer.alarms.evaluation import Window, evaluate
from rightsizer.alarms.reason import INITIAL_REASON, cw_time, iso_millis, java_double
from rightsizer.alarms.state import AlarmState
from rightsizer.metrics.store import Datapoint
from tests.alarms.helpers import T0, definition, window

INSUFFICIENT = AlarmState.INSUFFICIENT_DATA


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (20.0, "20.0"),
        (20, "20.0"),
        (99.7027322404378, "99.7027322404378"),
        (30.2, "30.2"),
        (0.1 + 0.2, "0.30000000000000004"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1.5e-5, "1.5E-5"),
        (1234567.0, "1234567.0"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (12345678.9, "1.23456789E7"),
        (1e21, "1.0E21"),
        (-2.5, "-2.5"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (float("inf"), "Infinity"),
        (float("nan"), "NaN"),
    ],
)
def test_java_double(value: float, text: str) -> None:
    assert java_double(value) == text


def test_times() -> None:
    assert cw_time(T0 + 3 * 60) == "27/11/26 14:03:00"
    assert iso_millis(T0 + 0.25) == "2026-11-27T14:00:00.250+0000"


def test_the_spec_example_byte_for_byte() -> None:
    alarm = definition()
    boundary = T0 + 4 * 60
    w = Window(boundary, 60, (None, None, Datapoint(T0 + 3 * 60, 30.2, 5)))
    assert evaluate(alarm, w, INSUFFICIENT, INITIAL_REASON).reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [30.2 (27/11/26 14:03:00)] was greater "
        "than the threshold (20.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )


def test_several_datapoints_newest_first_with_were() -> None:
    alarm = definition(EvaluationPeriods=3, DatapointsToAlarm=2)
    reason = evaluate(alarm, window("--X0X"), INSUFFICIENT, INITIAL_REASON).reason
    assert reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [30.0 (27/11/26 13:59:00), "
        "30.0 (27/11/26 13:57:00)] were greater than the threshold (20.0) "
        "(minimum 2 datapoints for OK -> ALARM transition)."
    )


def test_the_way_back_to_ok_names_n_minus_m_plus_1() -> None:
    alarm = definition(
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Threshold=99.7027322404378,
    )
    w = window("00000", good=5.0)
    reason = evaluate(alarm, w, AlarmState.ALARM, "").reason
    assert reason == (
        "Threshold Crossed: 3 out of the last 3 datapoints [5.0 (27/11/26 13:59:00), "
        "5.0 (27/11/26 13:58:00), 5.0 (27/11/26 13:57:00)] were not greater than or equal to "
        "the threshold (99.7027322404378) (minimum 2 datapoints for ALARM -> OK transition)."
    )


def test_insufficient_data() -> None:
    assert evaluate(definition(), window("---"), INSUFFICIENT, "").reason == (
        "Insufficient Data: 1 datapoint was unknown."
    )
    alarm = definition(EvaluationPeriods=3)
    assert evaluate(alarm, window("-----"), INSUFFICIENT, "").reason == (
        "Insufficient Data: 3 datapoints were unknown."
    )


def test_missing_datapoints_treated_as_breaching_or_not() -> None:
    breaching = definition(EvaluationPeriods=3, TreatMissingData="breaching")
    assert evaluate(breaching, window("-----"), INSUFFICIENT, "").reason == (
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints "
        "were treated as [Breaching]."
    )
    one = definition(TreatMissingData="notBreaching")
    assert evaluate(one, window("---"), INSUFFICIENT, "").reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [NonBreaching]."
    )
    w = window("----0", good=1.0)
    assert evaluate(breaching, w, AlarmState.ALARM, "").reason == (
        "Threshold Crossed: 1 datapoint [1.0 (27/11/26 13:59:00)] was not greater than the "
        "threshold (20.0) and 2 missing datapoints were treated as [Breaching]."
    )


def test_missing_mode_counts_only_the_real_datapoints_it_evaluated() -> None:
    alarm = definition(EvaluationPeriods=3)
    reason = evaluate(alarm, window("----0"), AlarmState.ALARM, "").reason
    assert reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [10.0 (27/11/26 13:59:00)] was not "
        "greater than the threshold (20.0) (minimum 1 datapoint for ALARM -> OK transition)."
    )
