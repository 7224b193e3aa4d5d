"""`--arrival-rate auto`'s plan and search, on a simulated open-model target whose limit is
known: below `capacity` iterations a second the p95 from the intended start stays low, past it
the queue grows and breaks the SLO."""

from __future__ import annotations

import itertools

import pytest

from rightsizer.errors import UsageError
from rightsizer.load.plan import RunPlan
from rightsizer.load.search import SearchLimits, StepOutcome, UserSearch
from rightsizer.slo import Slo

SLO = Slo(p95_ms=500.0, failure_pct=1.0)


def _step(rate: int, capacity: float) -> StepOutcome:
    """A rate step as the search sees it: `users` holds the rate, p95 is the corrected one."""
    held = rate <= capacity
    return StepOutcome(
        users=rate,
        p95_ms=40.0 if held else 2500.0,
        fail_ratio=0.0,
        cpu_utilization=None,
        rps=float(min(rate, capacity)),
        requests=round(min(rate, capacity) * 8),
    )


def _search(plan: RunPlan, capacity: float) -> list[int]:
    assert plan.search is not None
    search = UserSearch(plan.search)
    done: list[StepOutcome] = []
    while (rate := search.next_users(done)) is not None:
        done.append(_step(rate, capacity))
    return [s.users for s in done]


def test_auto_rates_plan_an_open_model_search() -> None:
    limits = SearchLimits.build(1, SLO, first_users=20, max_steps=6)
    plan = RunPlan.open_model("auto", 10, search=limits)
    assert plan.is_open and plan.searches_rates and plan.rates == ()
    assert plan.search is not None and plan.search.start == 20
    assert plan.as_dict()["arrival_rates"] == "auto"
    assert plan.pool_for(50) >= 50  # a pool carries at least the rate for one second
    assert RunPlan.open_model("auto", 10, pool=7).pool_for(500) == 7  # --arrival-users


@pytest.mark.parametrize("capacity", [37.0, 120.0, 1000.0])
def test_the_rate_climbs_to_the_first_rate_past_the_limit_and_never_back(
    capacity: float,
) -> None:
    plan = RunPlan.open_model(
        "auto", 10, search=SearchLimits.build(1, SLO, first_users=10, max_steps=30)
    )
    rates = _search(plan, capacity)
    assert rates[0] == 10
    # Up only, never more than 1.5x a step, so the bracket is at most that wide ...
    assert all(b > a and b <= 1.5 * a + 1 for a, b in itertools.pairwise(rates))
    # ... and it ends at the first rate the target could not hold.
    assert rates[-1] > capacity >= rates[-2]


def test_a_budget_too_small_ends_below_the_limit() -> None:
    plan = RunPlan.open_model(
        "auto", 10, search=SearchLimits.build(1, SLO, first_users=10, max_steps=3)
    )
    rates = _search(plan, 1000.0)
    assert len(rates) == 3 and max(rates) < 1000


def test_auto_rates_check_their_pool() -> None:
    with pytest.raises(UsageError, match="--arrival-users: 0 is out of range"):
        RunPlan.open_model("auto", 10, pool=0)
