"""The user search on simulated fleets whose break point is known."""

from __future__ import annotations

import pytest

from rightsizer.load.search import SearchLimits, StepOutcome, UserSearch


def simulate(users: int, per_user_cpu: float, slo_break: int) -> StepOutcome:
    """A fleet whose CPU grows linearly with users and whose p95 breaks at `slo_break`."""
    cpu = min(100.0, users * per_user_cpu)
    p95 = 120.0 if users < slo_break else 2500.0
    return StepOutcome(users=users, p95_ms=p95, fail_ratio=0.0, cpu_utilization=cpu)


def run_search(search: UserSearch, per_user_cpu: float, slo_break: int) -> list[StepOutcome]:
    done: list[StepOutcome] = []
    while (users := search.next_users(done)) is not None:
        assert users not in {s.users for s in done}, "a step was repeated"
        done.append(simulate(users, per_user_cpu, slo_break))
    return done


@pytest.mark.parametrize(
    ("tasks", "per_user_cpu", "slo_break"),
    [(1, 0.2, 450), (4, 0.05, 1800), (1, 2.0, 40), (1, 0.01, 5000)],
)
def test_brackets_the_break_within_the_step_budget(
    tasks: int, per_user_cpu: float, slo_break: int
) -> None:
    limits = SearchLimits(tasks=tasks)
    search = UserSearch(limits)
    done = run_search(search, per_user_cpu, slo_break)
    low, high = search.bracket(done)
    assert len(done) <= limits.max_steps
    assert high is not None, f"never found the limit: {[s.users for s in done]}"
    assert low is not None
    # The true limit (SLO break or CPU saturation, whichever comes first) lies in the bracket.
    saturation = limits.saturation_cpu / per_user_cpu
    true_limit = min(slo_break, saturation)
    assert low < true_limit <= high
    # ...and the bracket is tight enough to be an answer: within 25% of the limit.
    assert (high - low) / true_limit <= 0.25


def test_cpu_prediction_skips_the_empty_middle() -> None:
    """With a clean linear CPU signal the search reaches the break in few steps."""
    search = UserSearch(SearchLimits(tasks=1))
    done = run_search(search, per_user_cpu=0.2, slo_break=10_000)
    assert len(done) <= 7


def test_without_cpu_data_it_grows_geometrically() -> None:
    search = UserSearch(SearchLimits(tasks=2, first_users_per_task=5, growth=2.0))
    first = search.next_users([])
    assert first == 10
    step = StepOutcome(users=10, p95_ms=50.0, fail_ratio=0.0, cpu_utilization=None)
    assert search.next_users([step]) == 20


def test_failures_count_as_broken() -> None:
    search = UserSearch(SearchLimits(tasks=1))
    failing = StepOutcome(users=10, p95_ms=50.0, fail_ratio=0.02, cpu_utilization=5.0)
    assert search.is_bad(failing)
    assert search.bracket([failing]) == (None, 10)


def test_stops_at_max_users() -> None:
    search = UserSearch(SearchLimits(tasks=1, max_users=100))
    done = run_search(search, per_user_cpu=0.001, slo_break=10**6)
    assert max(s.users for s in done) == 100
    assert search.next_users(done) is None
