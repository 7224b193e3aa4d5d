from __future__ import annotations

from pathlib import Path

import pytest

from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.recorded_run import load_run
from rightsizer.analysis.slo_limit import (
    breaches,
    users_at_slo,
    value_at_users,
    verdict,
)
from rightsizer.analysis.step_points import load_points
from rightsizer.slo import Slo
from tests.analysis.helpers import fixture_run, step

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


def test_value_at_users_interpolates_between_steps() -> None:
    steps = [step(1, 0, cpu_utilization=10.0), step(5, 1, cpu_utilization=50.0)]
    assert value_at_users(steps, 3.0, "cpu_utilization") == pytest.approx(30.0)
    assert value_at_users(steps, 5.0, "cpu_utilization") == pytest.approx(50.0)
    assert value_at_users(steps, 9.0, "cpu_utilization") is None
    assert value_at_users(steps, 3.0, "memory_utilization") is None


def test_a_step_exactly_at_a_limit_missed_it() -> None:
    at_p95 = step(5, 1, p95_ms=1000.0, fail_ratio=0.0)
    at_failures = step(6, 2, p95_ms=10.0, fail_ratio=0.01)
    limit = users_at_slo([step(1, 0, p95_ms=10.0), at_p95, at_failures], SLO)
    assert limit.first_bad is at_p95 and limit.measured_users == 1
    assert verdict(at_failures, SLO) is False
    assert breaches(at_failures, SLO) == ["failures 1.00% ≥ 1%"]


def test_the_verdict_puts_each_limit_on_the_failing_side() -> None:
    # SLO: p95 under 1000 ms and failures under 1%; a step at either limit missed it.
    expected = {(999.0, 0.0): True, (1000.0, 0.0): False, (10.0, 0.0099): True, (10.0, 0.01): False}
    for (p95, fail_ratio), met in expected.items():
        assert verdict(step(1, 0, p95_ms=p95, fail_ratio=fail_ratio), SLO) is met, (p95, fail_ratio)


def test_a_step_without_p95_is_not_judged_whatever_its_failures() -> None:
    assert verdict(step(1, 0, fail_ratio=0.5), SLO) is None


def test_a_search_is_judged_by_users_not_run_order() -> None:
    # `--users auto`: it climbs past the limit, then bisects back between good and bad.
    ran = [(10, 40.0), (80, 90.0), (400, 4000.0), (245, 1400.0), (160, 700.0), (200, 980.0)]
    steps = [step(users, i, p95_ms=p95, rps=users * 0.5) for i, (users, p95) in enumerate(ran)]
    limit = users_at_slo(steps, SLO)
    assert limit.last_good is steps[5] and limit.first_bad is steps[3]
    assert limit.interpolated and 200 < (limit.users or 0) < 245
    assert limit.users == pytest.approx(200 + 45 * 20 / 420)
    # the same steps in any other order give the same answer
    assert users_at_slo(list(reversed(steps)), SLO) == limit


def test_a_limit_that_cannot_be_interpolated_says_so() -> None:
    # The bad step broke on failures, but the good step recorded none to interpolate from.
    good = step(4, 0, p95_ms=100.0)
    bad = step(8, 1, p95_ms=120.0, fail_ratio=0.2)
    limit = users_at_slo([good, bad], SLO)
    assert limit.broke and not limit.interpolated and limit.users == 4.0


def test_a_recorded_search_is_judged_by_users(tmp_path: Path) -> None:
    run = load_run(fixture_run(tmp_path, "search-1-task"))
    assert run.searched and [s.users for s in run.steps] == list(run.manifest.users)
    in_order = [s.users for s in run.steps]
    assert in_order != sorted(in_order), "the search refines below a step it already ran"
    limit = users_at_slo(run.steps, run.slo)
    assert limit.first_bad is not None and limit.last_good is not None
    bad = [s.users for s in run.steps if verdict(s, run.slo) is False]
    good = [s.users for s in run.steps if verdict(s, run.slo)]
    assert limit.first_bad.users == min(bad)
    assert limit.last_good.users == max(u for u in good if u < min(bad))
    # the refinement ran after the bad step: run order would have stopped at the first bad one
    assert limit.last_good.index > limit.first_bad.index
    by_users = sorted(run.steps, key=lambda s: s.users)
    assert users_at_slo(by_users, run.slo) == limit
    assert find_knee(load_points(run.steps)) == find_knee(load_points(by_users))
