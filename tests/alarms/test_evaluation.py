"""The engine, rule by rule (alarm-semantics.md, "Evaluation"), plus a brute-force M-of-N check."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsizer.alarms.evaluation import Window, evaluate
from rightsizer.alarms.reason import INITIAL_REASON
from rightsizer.alarms.state import AlarmState
from rightsizer.metrics.store import Datapoint
from tests.alarms.helpers import T0, definition, window

OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA
TREATMENTS = ("missing", "notBreaching", "breaching", "ignore")


def run(
    pattern: str,
    *,
    n: int = 3,
    m: int | None = None,
    treat: str = "missing",
    previous: AlarmState = INSUFFICIENT,
) -> AlarmState:
    alarm = definition(EvaluationPeriods=n, DatapointsToAlarm=m, TreatMissingData=treat)
    return evaluate(alarm, window(pattern), previous, "earlier reason").state


# -- complete data: N real datapoints decide, M of them must breach ------------------------------


@pytest.mark.parametrize(
    ("pattern", "m", "expected"),
    [
        ("00XXX", 3, ALARM),
        ("00XX0", 3, OK),
        ("00XX0", 2, ALARM),
        ("00X0X", 2, ALARM),  # not necessarily consecutive
        ("00X00", 2, OK),
        ("XX000", 1, OK),  # only the N most recent count
    ],
)
def test_complete_data_m_of_n(pattern: str, m: int, expected: AlarmState) -> None:
    assert run(pattern, n=3, m=m) is expected


@pytest.mark.parametrize("treat", TREATMENTS)
def test_with_n_real_datapoints_in_the_range_missing_data_treatment_plays_no_part(
    treat: str,
) -> None:
    # 3 real datapoints among 5 periods: the 3 most recent real ones decide (0, X, X).
    assert run("0-X-X", treat=treat) is OK
    assert run("0XX-X", treat=treat) is ALARM
    assert run("X-X-X", treat=treat, m=3) is ALARM


def test_the_range_is_n_plus_two_periods() -> None:
    alarm = definition(EvaluationPeriods=3)
    assert alarm.evaluation_range == 5
    # The oldest period of the range still counts as a real datapoint.
    assert evaluate(alarm, window("XX--X"), OK, "").state is ALARM


# -- fewer than N real datapoints: the window's missing periods are filled ----------------------


def test_not_breaching_fills_missing_periods_as_good() -> None:
    assert run("----X", treat="notBreaching", m=1) is ALARM
    assert run("----X", treat="notBreaching", m=2) is OK
    assert run("-----", treat="notBreaching") is OK


def test_breaching_fills_missing_periods_as_bad() -> None:
    assert run("----0", treat="breaching", m=3) is OK  # 2 of 3 bad
    assert run("----0", treat="breaching", m=2) is ALARM
    assert run("-----", treat="breaching") is ALARM


def test_missing_with_no_datapoint_in_the_range_is_insufficient_data() -> None:
    assert run("-----", previous=ALARM) is INSUFFICIENT
    assert run("-----", previous=OK) is INSUFFICIENT


def test_missing_decides_on_the_real_datapoints_when_they_suffice() -> None:
    # ALARM needs M breaching real datapoints.
    assert run("---XX", m=2) is ALARM
    # OK when ALARM can no longer be reached: 1 good of 3 leaves at most 2 < M = 3 breaching.
    assert run("----0", m=3, previous=ALARM) is OK
    # Otherwise the state is kept: one breaching datapoint, two unknown, M = 3.
    assert run("----X", m=3, previous=OK) is OK
    assert run("----X", m=3, previous=INSUFFICIENT) is INSUFFICIENT


def test_missing_goes_to_alarm_when_the_oldest_breach_is_m_periods_old() -> None:
    # CloudWatch's rule against premature transitions (alarm-semantics.md, "missing").
    assert run("--X--", m=3, previous=OK) is ALARM
    assert run("---X-", m=2, previous=OK) is ALARM  # 2 periods old, M = 2
    assert run("---X-", m=3, previous=OK) is OK  # only 2 old: not yet
    assert run("--X-0", m=2, previous=OK) is OK  # a newer datapoint is good
    assert run("--XX-", m=3, previous=INSUFFICIENT) is ALARM
    assert run("--X--", m=3, treat="ignore", previous=OK) is OK  # ignore keeps


def test_ignore_keeps_the_state_when_datapoints_are_missing() -> None:
    for previous in AlarmState:
        assert run("-----", treat="ignore", previous=previous) is previous
        assert run("--X--", treat="ignore", previous=previous) is previous
    assert run("----0", treat="ignore", previous=ALARM) is OK
    assert run("--XXX", treat="ignore", previous=OK) is ALARM


def test_a_kept_state_keeps_its_reason() -> None:
    alarm = definition(EvaluationPeriods=3, TreatMissingData="ignore")
    outcome = evaluate(alarm, window("-----"), OK, "the reason of the last change")
    assert not outcome.decided
    assert outcome.reason == "the reason of the last change"


@pytest.mark.parametrize(
    ("pattern", "missing", "ignore", "breaching", "not_breaching"),
    [
        # The CloudWatch user guide's table ("Configuring how CloudWatch alarms treat missing
        # data"), every row, N = M = 3 (range 5); "keep" = "Retain current state".
        ("0-X-X", OK, OK, OK, OK),
        ("----0", OK, OK, OK, OK),
        ("-----", INSUFFICIENT, "keep", ALARM, OK),
        ("0XX-X", ALARM, ALARM, ALARM, ALARM),
        # The rule against premature transitions: the lone breaching datapoint is 3 = M
        # periods old and nothing newer is real, so `missing` goes to ALARM.
        ("--X--", ALARM, "keep", ALARM, OK),
    ],
)
def test_the_cloudwatch_missing_data_table(
    pattern: str,
    missing: AlarmState | str,
    ignore: AlarmState | str,
    breaching: AlarmState | str,
    not_breaching: AlarmState | str,
) -> None:
    for treat, expected in zip(
        TREATMENTS, (missing, not_breaching, breaching, ignore), strict=True
    ):
        for previous in AlarmState:
            want = previous if expected == "keep" else expected
            assert run(pattern, treat=treat, previous=previous) is want, (treat, previous)


# -- operators and the reason data --------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "below", "equal", "above"),
    [
        ("GreaterThanThreshold", OK, OK, ALARM),
        ("GreaterThanOrEqualToThreshold", OK, ALARM, ALARM),
        ("LessThanThreshold", ALARM, OK, OK),
        ("LessThanOrEqualToThreshold", ALARM, ALARM, OK),
    ],
)
def test_each_operator_at_below_and_above_the_threshold(
    operator: str, below: AlarmState, equal: AlarmState, above: AlarmState
) -> None:
    alarm = definition(ComparisonOperator=operator, Threshold=20)
    for value, expected in ((19.99, below), (20.0, equal), (20.01, above)):
        w = Window(T0, 60, (None, None, Datapoint(T0 - 60, value, 1)))
        assert evaluate(alarm, w, INSUFFICIENT, INITIAL_REASON).state is expected, value


def test_reason_data_lists_what_was_evaluated() -> None:
    alarm = definition(EvaluationPeriods=3, DatapointsToAlarm=2)
    outcome = evaluate(alarm, window("0-XX0"), INSUFFICIENT, INITIAL_REASON)
    assert outcome.state is ALARM
    data = outcome.reason_data
    assert data["statistic"] == "Average"
    assert data["period"] == 60
    assert data["threshold"] == 20.0
    assert data["recentDatapoints"] == [30.0, 30.0, 10.0]  # oldest first
    stamps = [p["timestamp"] for p in data["evaluatedDatapoints"]]
    assert stamps == [  # newest first
        "2026-11-27T13:59:00.000+0000",
        "2026-11-27T13:58:00.000+0000",
        "2026-11-27T13:57:00.000+0000",
    ]
    assert [p["value"] for p in data["evaluatedDatapoints"]] == [10.0, 30.0, 30.0]


# -- brute force: M of N over arbitrary complete windows ----------------------------------------


@given(
    values=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=12),
    threshold=st.floats(0, 100, allow_nan=False),
    data=st.data(),
)
def test_m_of_n_counts_match_a_brute_force_check(
    values: list[float], threshold: float, data: st.DataObject
) -> None:
    n = data.draw(st.integers(1, len(values)), label="N")
    m = data.draw(st.integers(1, n), label="M")
    alarm = definition(EvaluationPeriods=n, DatapointsToAlarm=m, Threshold=threshold)
    periods = tuple(Datapoint(T0 - (len(values) - i) * 60, v, 1) for i, v in enumerate(values))
    outcome = evaluate(alarm, Window(T0, 60, periods), INSUFFICIENT, INITIAL_REASON)

    last_n = values[-n:]
    breaching = 0
    for v in last_n:
        if v > threshold:
            breaching += 1
    expected = ALARM if breaching >= m else OK
    assert outcome.state is expected
    counted = breaching if expected is ALARM else n - breaching
    assert outcome.reason.startswith(f"Threshold Crossed: {counted} out of the last {n} ")


# -- brute force: windows with missing periods, under each TreatMissingData ---------------------


def brute_force(  # noqa: PLR0911 (one return a rule, like the spec's list)
    periods: list[float | None],
    *,
    n: int,
    m: int,
    threshold: float,
    treat: str,
    previous: AlarmState,
) -> AlarmState:
    """The spec's rules written out plainly, over a range of N + 2 periods (oldest first)."""
    real = [v for v in periods if v is not None]
    if len(real) >= n:
        return ALARM if sum(v > threshold for v in real[-n:]) >= m else OK
    recent = periods[-n:]
    bad = sum(1 for v in recent if v is not None and v > threshold)
    missing = sum(1 for v in recent if v is None)
    if treat in ("breaching", "notBreaching"):
        filled = bad + (missing if treat == "breaching" else 0)
        return ALARM if filled >= m else OK
    if not real:
        return INSUFFICIENT if treat == "missing" else previous
    if bad >= m:
        return ALARM
    if bad + missing < m:
        return OK
    if treat == "missing":
        # Premature-transition rule: ages run N (oldest of the window) down to 1 (newest).
        aged = [(a, v) for a, v in zip(range(n, 0, -1), recent, strict=True) if v is not None]
        breaching_ages = [a for a, v in aged if v > threshold]
        good_ages = [a for a, v in aged if v <= threshold]
        oldest = max(breaching_ages, default=0)
        premature_alarm = bool(breaching_ages) and oldest >= m
        if premature_alarm and all(a > oldest for a in good_ages):
            return ALARM
    return previous


@settings(max_examples=500)  # cheap examples; the rarer M-of-N corners need many
@given(
    # Below, at and above the threshold (20, GreaterThan), or missing: the cases that count.
    values=st.lists(st.one_of(st.none(), st.sampled_from([5.0, 20.0, 35.0])), max_size=8),
    treat=st.sampled_from(TREATMENTS),
    previous=st.sampled_from(list(AlarmState)),
    data=st.data(),
)
def test_missing_datapoints_match_a_brute_force_check(
    values: list[float | None],
    treat: str,
    previous: AlarmState,
    data: st.DataObject,
) -> None:
    threshold = 20.0
    n = data.draw(st.integers(1, 6), label="N")
    m = data.draw(st.integers(1, n), label="M")
    alarm = definition(
        EvaluationPeriods=n, DatapointsToAlarm=m, Threshold=threshold, TreatMissingData=treat
    )
    # The range the live evaluator and replay build: N + 2 periods, padded with missing ones.
    periods = ([None] * (n + 2) + values)[-(n + 2) :]
    window = Window(
        T0,
        60,
        tuple(
            None if v is None else Datapoint(T0 - (n + 2 - i) * 60, v, 1)
            for i, v in enumerate(periods)
        ),
    )
    outcome = evaluate(alarm, window, previous, "earlier reason")
    expected = brute_force(periods, n=n, m=m, threshold=threshold, treat=treat, previous=previous)
    assert outcome.state is expected
    if outcome.state is previous and not outcome.decided:
        assert outcome.reason == "earlier reason"
