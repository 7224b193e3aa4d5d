from __future__ import annotations

import pytest

from rightsizer.analysis.comparison import Difference, Estimate, Measure
from rightsizer.report import format as fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "–"),
        (0.4, "0 ms"),
        (212.4, "212 ms"),
        (999.4, "999 ms"),
        (3100.0, "3.10 s"),
        (12_400.0, "12.4 s"),
        (-1500.0, "-1.50 s"),
    ],
)
def test_ms(value: float | None, text: str) -> None:
    assert fmt.ms(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (75.4, "1:15"), (59.6, "1:00"), (3725, "1:02:05"), (-5, "-0:05")],
)
def test_clock(seconds: float, text: str) -> None:
    assert fmt.clock(seconds) == text


def test_rates_keep_three_significant_digits() -> None:
    assert [fmt.rps(v) for v in (0.423, 4.625, 12.84, 123.4)] == ["0.42", "4.62", "12.8", "123"]


def test_intervals_print_the_unit_once() -> None:
    assert fmt.interval(Measure.P95, Estimate(1.0, -332.0, 23.0)) == "[-332 .. 23 ms]"
    assert fmt.interval(Measure.P95, Estimate(1.0, 900.0, 1100.0)) == "[900 ms .. 1.10 s]"
    assert fmt.interval(Measure.CPU, Estimate(1.0, 50.0, 61.25)) == "[50.0 .. 61.2%]"
    assert fmt.interval(Measure.RPS, Estimate(1.0)) == ""


def test_sentence_and_verdict_read_as_the_issue_asks() -> None:
    faster = Difference(
        Measure.P95, Estimate(3100.0), Estimate(210.0), Estimate(-2890.0, -3000.0, -2700.0)
    )
    assert fmt.sentence(20, faster) == "20 users: p95 3.10 s -> 210 ms"
    assert fmt.verdict(faster) == "better"
    unclear = Difference(Measure.RPS, Estimate(3.0), Estimate(3.1), Estimate(0.1, -0.2, 0.4))
    assert fmt.verdict(unclear) == "no clear change"
    assert fmt.signed(Measure.RPS, 0.1) == "+0.10 rps"


def test_smoothing_keeps_the_length_even_for_runs_shorter_than_the_window() -> None:
    from rightsizer.report.style import smooth

    for n in (0, 1, 3, 5, 12):
        values = tuple(float(i) for i in range(n))
        assert len(smooth(values, 5)) == n
    assert list(smooth((1.0, 2.0, 3.0), 5)) == [1.5, 2.0, 2.5]  # shorter windows at the ends
