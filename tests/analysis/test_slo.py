from __future__ import annotations

import pytest

from rightsizer.analysis.slo import first_breach_time, users_at_slo, value_at_users
from rightsizer.analysis.steps import Slo
from tests.analysis.helpers import T0, step

SLO = Slo(p95_ms=1000, failure_pct=1.0)


def test_the_limit_lies_between_the_last_good_and_the_first_bad_step() -> None:
    steps = [
        step(1, 0, p95_ms=200.0, fail_ratio=0.0),
        step(5, 1, p95_ms=600.0, fail_ratio=0.0),
        step(20, 2, p95_ms=3600.0, fail_ratio=0.0),
    ]
    limit = users_at_slo(steps, SLO)
    assert limit.last_good is steps[1]
    assert limit.first_bad is steps[2]
    assert limit.broke and limit.measured_users == 5
    # p95 crosses 1000 ms 400/3000 of the way from 5 to 20 users.
    assert limit.users == pytest.approx(5 + 15 * 400 / 3000)
    assert limit.reasons == ("p95 3600 ms ≥ 1000 ms",)


def test_refinement_steps_run_later_are_judged_in_users_order() -> None:
    # The demo runs 1, 3, 20, then refines with 10 and 6.
    steps = [
        step(1, 0, p95_ms=100.0),
        step(3, 1, p95_ms=150.0),
        step(20, 2, p95_ms=4000.0),
        step(10, 3, p95_ms=1500.0),
        step(6, 4, p95_ms=800.0),
    ]
    limit = users_at_slo(steps, SLO)
    assert (limit.measured_users, limit.first_bad and limit.first_bad.users) == (6, 10)
    assert 6 < (limit.users or 0) < 10


def test_failures_alone_break_the_slo() -> None:
    steps = [step(2, 0, p95_ms=100.0, fail_ratio=0.0), step(4, 1, p95_ms=120.0, fail_ratio=0.03)]
    limit = users_at_slo(steps, SLO)
    assert limit.first_bad is steps[1]
    assert limit.users == pytest.approx(2 + 2 * (1.0 / 3.0))
    assert limit.reasons == ("failures 3.00% ≥ 1%",)


def test_an_slo_that_never_broke_gives_a_lower_bound() -> None:
    limit = users_at_slo([step(1, 0, p95_ms=10.0), step(8, 1, p95_ms=90.0)], SLO)
    assert not limit.broke
    assert limit.users == 8.0


def test_a_first_step_that_breaks_leaves_no_good_step() -> None:
    limit = users_at_slo([step(1, 0, p95_ms=5000.0)], SLO)
    assert limit.last_good is None and limit.users is None and limit.broke


def test_steps_without_p95_are_not_judged() -> None:
    assert users_at_slo([step(1, 0)], SLO).users is None


def test_first_breach_time_is_in_run_order() -> None:
    steps = [step(1, 0, p95_ms=10.0), step(20, 1, p95_ms=5000.0), step(10, 2, p95_ms=1500.0)]
    assert first_breach_time(steps, SLO) == T0 + 60
    assert first_breach_time(steps[:1], SLO) is None


def test_value_at_users_interpolates_between_steps() -> None:
    steps = [step(1, 0, cpu_utilization=10.0), step(5, 1, cpu_utilization=50.0)]
    assert value_at_users(steps, 3.0, "cpu_utilization") == pytest.approx(30.0)
    assert value_at_users(steps, 5.0, "cpu_utilization") == pytest.approx(50.0)
    assert value_at_users(steps, 9.0, "cpu_utilization") is None
    assert value_at_users(steps, 3.0, "memory_utilization") is None
