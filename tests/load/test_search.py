"""The user search on simulated fleets whose limits are known."""

from __future__ import annotations

import pytest

from rightsizer.load.search import SearchLimits, StepOutcome, UserSearch
from rightsizer.slo import Slo

THINK_S = 3.0  # the mean of between(1, 5)
SERVICE_S = 0.01


def closed_loop(users: int, capacity: float, cpu_scale: float = 1.0) -> StepOutcome:
    """Users who wait for an answer, then think: a fleet serving `capacity` flows/s at most.
    Below capacity answers take SERVICE_S; past it, queueing makes N = X (Z + R) hold with
    X = capacity, so R grows with every extra user (and p95 is about twice the mean)."""
    offered = users / (THINK_S + SERVICE_S)
    throughput = min(offered, capacity)
    mean_s = max(SERVICE_S, users / capacity - THINK_S)
    cpu = min(100.0, throughput / capacity * 100 * cpu_scale)
    return StepOutcome(
        users=users,
        p95_ms=2000 * mean_s,
        fail_ratio=0.0,
        cpu_utilization=cpu,
        rps=throughput,
        p50_ms=1000 * mean_s,
    )


def run_search(search: UserSearch, capacity: float) -> list[StepOutcome]:
    done: list[StepOutcome] = []
    while (users := search.next_users(done)) is not None:
        assert users not in {s.users for s in done}, "a step was repeated"
        done.append(closed_loop(users, capacity))
    return done


@pytest.mark.parametrize(("tasks", "capacity"), [(1, 130.0), (4, 500.0), (1, 15.0), (2, 300.0)])
def test_brackets_the_slo_break_past_the_knee(tasks: int, capacity: float) -> None:
    limits = SearchLimits(tasks=tasks)
    search = UserSearch(limits)
    done = run_search(search, capacity)
    low, high = search.bracket(done)
    # The SLO (p95 < 1 s, so mean < 0.5 s) breaks where capacity x (think + 0.5 s) users wait.
    true_limit = capacity * (THINK_S + 0.5)
    assert len(done) <= limits.max_steps
    assert low is not None and high is not None, [s.users for s in done]
    assert low < true_limit <= high
    assert (high - low) / true_limit <= 0.2  # tight enough to be an answer
    # The knee (CPU saturated) was measured on the way: a good step with saturated CPU.
    assert any(search.is_saturated(s) and not search.is_bad(s) for s in done)


def test_cpu_prediction_reaches_the_knee_in_few_steps() -> None:
    search = UserSearch(SearchLimits(tasks=1))
    done: list[StepOutcome] = []
    while (users := search.next_users(done)) is not None:
        done.append(closed_loop(users, 130.0))
        if search.is_saturated(done[-1]):
            break
    assert len(done) <= 5, [s.users for s in done]


def test_past_the_knee_littles_law_predicts_the_slo_break() -> None:
    search = UserSearch(SearchLimits(tasks=1))
    done = [closed_loop(users, 130.0) for users in (10, 80, 330, 420)]
    assert search.is_saturated(done[-1])
    predicted = search.predicted_slo_break(done)
    assert predicted == pytest.approx(130.0 * (THINK_S + 0.5), rel=0.02)
    # The next step goes past it (by `past_knee_aim`), so the one after can bisect.
    nxt = search.next_users(done)
    limit = 130.0 * (THINK_S + 0.5)
    assert nxt is not None and limit < nxt <= 1.31 * limit


def test_a_second_fleet_can_start_near_what_the_first_measured() -> None:
    search = UserSearch(SearchLimits(tasks=4, first_users=900))
    assert search.next_users([]) == 900
    done = run_search(search, capacity=520.0)
    assert len(done) <= 6, [s.users for s in done]


def test_without_cpu_data_it_grows_geometrically() -> None:
    search = UserSearch(SearchLimits(tasks=2, first_users_per_task=5, growth=2.0))
    assert search.next_users([]) == 10
    step = StepOutcome(users=10, p95_ms=50.0, fail_ratio=0.0, cpu_utilization=None)
    assert search.next_users([step]) == 20


def test_failures_and_silence_count_as_broken() -> None:
    search = UserSearch(SearchLimits(tasks=1, slo=Slo(p95_ms=500, failure_pct=2.0)))
    assert search.is_bad(StepOutcome(10, p95_ms=50.0, fail_ratio=0.02, cpu_utilization=5.0))
    assert not search.is_bad(StepOutcome(10, p95_ms=50.0, fail_ratio=0.019, cpu_utilization=5.0))
    assert search.is_bad(StepOutcome(10, p95_ms=500.0, fail_ratio=0.0, cpu_utilization=5.0))
    assert search.is_bad(StepOutcome(10, p95_ms=None, fail_ratio=0.0, cpu_utilization=None))


def test_stops_at_max_users_when_nothing_breaks() -> None:
    search = UserSearch(SearchLimits(tasks=1, max_users=100))
    done: list[StepOutcome] = []
    while (users := search.next_users(done)) is not None:
        done.append(StepOutcome(users, p95_ms=5.0, fail_ratio=0.0, cpu_utilization=1.0))
    assert max(s.users for s in done) == 100
    assert search.bracket(done) == (100, None)
