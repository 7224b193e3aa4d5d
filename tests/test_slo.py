"""Slo.checked: the one rule every command's --slo-* flags pass through."""

from __future__ import annotations

import math

import pytest

from rightsizer.errors import UsageError
from rightsizer.slo import Slo


def test_valid_limits_make_the_slo() -> None:
    assert Slo.checked(800, 0.5) == Slo(p95_ms=800, failure_pct=0.5)
    assert Slo.checked(0.001, 100) == Slo(p95_ms=0.001, failure_pct=100)


@pytest.mark.parametrize(
    ("p95_ms", "failure_pct", "message"),
    [
        (0, 1, "--slo-p95-ms: 0; give milliseconds above 0, e.g. 1000"),
        (-5, 1, "--slo-p95-ms: -5; give milliseconds above 0, e.g. 1000"),
        (math.inf, 1, "--slo-p95-ms: inf; give milliseconds above 0, e.g. 1000"),
        (math.nan, 1, "--slo-p95-ms: nan; give milliseconds above 0, e.g. 1000"),
        (1000, 0, "--slo-failures: 0; give a percentage above 0, e.g. 1"),
        (1000, 150, "--slo-failures: 150; give a percentage above 0, e.g. 1"),
        (1000, 100.5, "--slo-failures: 100.5; give a percentage above 0, e.g. 1"),
        (1000, math.nan, "--slo-failures: nan; give a percentage above 0, e.g. 1"),
    ],
)
def test_a_limit_out_of_range_names_its_flag(
    p95_ms: float, failure_pct: float, message: str
) -> None:
    with pytest.raises(UsageError) as info:
        Slo.checked(p95_ms, failure_pct)
    assert str(info.value) == message


def test_overriding_keeps_the_limits_not_given_and_checks_those_given() -> None:
    recorded = Slo(p95_ms=500, failure_pct=2.0)
    assert recorded.overridden(None, None) == recorded
    assert recorded.overridden(800, None) == Slo(p95_ms=800, failure_pct=2.0)
    assert recorded.overridden(None, 0.5) == Slo(p95_ms=500, failure_pct=0.5)
    with pytest.raises(UsageError, match=r"^--slo-failures: 150;"):
        recorded.overridden(None, 150)  # as `run` refuses it, so does `alarm replay`
