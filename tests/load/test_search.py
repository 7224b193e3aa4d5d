"""The user search on simulated fleets whose limits are known."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from rightsizer.analysis.limit import Halves
from rightsizer.errors import UsageError
from rightsizer.load.plan import MAX_USERS
from rightsizer.load.search import SearchLimits, StepOutcome, UserSearch
from rightsizer.slo import Slo

RATE = 0.65  # requests per second per user while nothing queues (between(1, 5), two requests)


def fleet(
    users: int, cpu_per_user: float, capacity: float, slo_break: int | None = None
) -> StepOutcome:
    """Throughput grows RATE per user up to `capacity` (the knee at capacity / RATE users);
    CPU grows `cpu_per_user` per user and reads full (100%) before that when the service gets
    more efficient under load; p95 breaks at `slo_break` users when given."""
    broken = slo_break is not None and users >= slo_break
    return StepOutcome(
        users=users,
        p95_ms=2500.0 if broken else 40.0,
        fail_ratio=0.0,
        cpu_utilization=min(100.0, users * cpu_per_user),
        rps=min(users * RATE, capacity),
        requests=round(min(users * RATE, capacity) * 12),  # a 12 s steady window
    )


def run_search(search: UserSearch, *model: float | int | None) -> list[StepOutcome]:
    done: list[StepOutcome] = []
    while (users := search.next_users(done)) is not None:
        assert users not in {s.users for s in done}, "a step was repeated"
        done.append(fleet(users, *model))  # type: ignore[arg-type]
    return done


@pytest.mark.parametrize(
    ("tasks", "cpu_per_user", "capacity", "slo_break", "limit"),
    [
        (1, 0.2, 300.0, None, 300.0 / RATE),  # CPU full at 475, the knee at 461
        (1, 0.35, 300.0, None, 300.0 / RATE),  # CPU reads full at 271, throughput grows to 461
        (4, 0.08, 1000.0, None, 1000.0 / RATE),
        (1, 0.2, 300.0, 250, 250),  # the SLO breaks first (a shared database, say)
    ],
)
def test_brackets_the_limit(
    tasks: int, cpu_per_user: float, capacity: float, slo_break: int | None, limit: float
) -> None:
    limits = SearchLimits(tasks=tasks)
    search = UserSearch(limits)
    done = run_search(search, cpu_per_user, capacity, slo_break)
    low, high = search.bracket(done)
    assert len(done) <= limits.max_steps, [s.users for s in done]
    assert low is not None and high is not None, [s.users for s in done]
    # A step with a quarter more users than the limit carries at most 80% of what a straight
    # line gives: clearly saturated, so the highest good step lies below it.
    off_line = 1.25 * limit
    assert low <= off_line and high >= limit, (low, high, [s.users for s in done])
    assert (high - low) / limit <= 0.35


def test_the_climb_is_gradual_so_alarm_thresholds_are_crossed_one_by_one() -> None:
    search = UserSearch(SearchLimits(tasks=1))
    done = run_search(search, 0.2, 300.0, None)
    cpus = sorted(s.cpu_utilization or 0 for s in done)
    assert any(50 <= c <= 70 for c in cpus), cpus
    assert any(80 <= c < 95 for c in cpus), cpus


def test_a_saturated_step_whose_throughput_still_grows_is_not_the_limit() -> None:
    search = UserSearch(SearchLimits(tasks=1))
    done = [fleet(u, 0.35, 300.0) for u in (60, 150, 280)]  # 280 users read 98% CPU
    assert search.is_saturated(done[-1])
    assert not search.is_bad(done[-1], done)  # still on the linear part
    nxt = search.next_users(done)
    assert nxt is not None and nxt > 280


def test_without_cpu_data_it_grows_geometrically() -> None:
    search = UserSearch(SearchLimits(tasks=2, first_users_per_task=5, growth=2.0))
    assert search.next_users([]) == 10
    step = StepOutcome(users=10, p95_ms=50.0, fail_ratio=0.0, cpu_utilization=None)
    assert search.next_users([step]) == 20


def test_failures_and_silence_break_the_slo() -> None:
    search = UserSearch(SearchLimits(tasks=1, slo=Slo(p95_ms=500, failure_pct=2.0)))
    assert search.is_bad(StepOutcome(10, p95_ms=50.0, fail_ratio=0.02, cpu_utilization=5.0))
    assert not search.is_bad(StepOutcome(10, p95_ms=50.0, fail_ratio=0.019, cpu_utilization=5.0))
    assert search.is_bad(StepOutcome(10, p95_ms=500.0, fail_ratio=0.0, cpu_utilization=5.0))
    # users but no request answered in the steady window: nothing served, bad
    silent = StepOutcome(10, p95_ms=None, fail_ratio=0.0, cpu_utilization=None, rps=0.0, requests=0)
    assert search.is_bad(silent)
    # nothing known (no count either): not judged, so neither bad nor a step to bracket with
    unknown = StepOutcome(10, p95_ms=None, fail_ratio=0.0, cpu_utilization=None)
    assert not search.is_bad(unknown)
    assert search.bracket([unknown]) == (None, None)


def test_stops_at_max_users_when_nothing_breaks() -> None:
    search = UserSearch(SearchLimits(tasks=1, max_users=100))
    done: list[StepOutcome] = []
    while (users := search.next_users(done)) is not None:
        done.append(StepOutcome(users, p95_ms=5.0, fail_ratio=0.0, cpu_utilization=1.0))
    assert max(s.users for s in done) == 100
    assert search.bracket(done) == (100, None)


def test_a_service_that_gets_cheaper_under_load_is_still_bracketed_in_six_steps() -> None:
    """CPU per user falls as load rises (as measured here: 18% at 60 users, 85% at 375, full
    only near 540), so the CPU line predicts saturation far too early; once the ramp is spent
    the search must grow as past the knee rather than creep."""

    measured = [(0, 0.0), (60, 18.0), (190, 54.7), (296, 81.2), (375, 84.6), (450, 86.2),
                (540, 98.0), (700, 100.0), (10_000, 100.0)]  # fmt: skip

    def cpu(users: int) -> float:
        for (u0, c0), (u1, c1) in itertools.pairwise(measured):
            if u0 <= users <= u1:
                return c0 + (c1 - c0) * (users - u0) / (u1 - u0)
        raise AssertionError(users)

    def concave(users: int) -> StepOutcome:
        return StepOutcome(
            users=users,
            p95_ms=40.0 if users * RATE <= 360.0 else 2500.0,
            fail_ratio=0.0,
            cpu_utilization=cpu(users),
            rps=min(users * RATE, 360.0),
        )

    limits = SearchLimits(tasks=1, first_users=60, max_steps=6)
    search = UserSearch(limits)
    done: list[StepOutcome] = []
    while (users := search.next_users(done)) is not None:
        done.append(concave(users))
    low, high = search.bracket(done)
    assert high is not None, [s.users for s in done]
    assert low is not None and low <= 360.0 / RATE <= high, [s.users for s in done]


def test_a_step_still_settling_is_repeated_once_then_judged() -> None:
    """A good step whose p95 still rose when it ended is run again at the same users (the
    queue carries on); the repeat is judged even if it still moves."""
    search = UserSearch(SearchLimits(tasks=1))
    good = fleet(100, 0.2, 300.0)
    rising = dataclasses.replace(
        fleet(300, 0.2, 300.0), p95_ms=400.0, halves=Halves(200.0, 50, 700.0, 50)
    )
    assert search.repeats([good, rising])
    assert search.next_users([good, rising]) == 300
    assert "still settling" in search.describe([good, rising])
    assert not search.repeats([good, rising, rising])
    assert search.next_users([good, rising, rising]) != 300
    # the first try is left for its repeat: a repeat that broke the SLO is the first bad step
    broke = dataclasses.replace(rising, p95_ms=1400.0)
    assert search.bracket([good, rising, broke]) == (100, 300)


def test_built_limits_carry_the_flags() -> None:
    slo = Slo(p95_ms=800, failure_pct=0.5)
    limits = SearchLimits.build(4, slo, first_users=900, max_steps=2)
    assert limits == SearchLimits(tasks=4, slo=slo, first_users=900, max_steps=2)
    assert SearchLimits.build(1, slo, first_users=MAX_USERS, max_steps=100).max_steps == 100


@pytest.mark.parametrize(
    ("first_users", "max_steps", "message"),
    [
        (None, 1, "--max-steps: 1; give 2 to 100"),
        (None, 101, "--max-steps: 101; give 2 to 100"),
        (0, 9, f"--search-from: 0; give 1 to {MAX_USERS} users"),
        (MAX_USERS + 1, 9, f"--search-from: {MAX_USERS + 1}; give 1 to {MAX_USERS} users"),
        (0, 1, "--max-steps: 1; give 2 to 100"),  # --max-steps is checked first
    ],
)
def test_limits_out_of_range_name_the_flag(
    first_users: int | None, max_steps: int, message: str
) -> None:
    with pytest.raises(UsageError) as info:
        SearchLimits.build(1, Slo(), first_users=first_users, max_steps=max_steps)
    assert str(info.value) == message
