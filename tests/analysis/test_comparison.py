from __future__ import annotations

import numpy as np
import pytest

from rightsizer.analysis.comparison import Measure, by_sent_time, compare_runs
from rightsizer.analysis.recorded_run import RecordedRun
from rightsizer.analysis.time_series import Series
from rightsizer.metrics.statistics import percentile
from tests.analysis.helpers import T0, run_of, step


def synthetic(users: int, median_ms: float, rate: float, seed: int) -> RecordedRun:
    """One 60 s step whose requests arrive `rate` a second with lognormal response times."""
    rng = np.random.default_rng(seed)
    sent = np.sort(rng.uniform(T0, T0 + 60, int(rate * 60)))
    latency = rng.lognormal(np.log(median_ms), 0.4, sent.size)
    done = sent + latency / 1000
    order = np.argsort(done)
    seconds = np.arange(T0, T0 + 60) + 0.5
    cpu = Series(tuple(seconds), tuple(rng.normal(50, 5, 60)))
    return run_of(
        [step(users, 0, p95_ms=1.0, rps=1.0)],
        latency=Series(tuple(done[order]), tuple(latency[order])),
        service_cpu=cpu,
    )


def test_figures_are_computed_over_requests_sent_in_the_steady_window() -> None:
    run = synthetic(20, 300.0, 10.0, seed=1)
    comparison = compare_runs(run, run, resamples=200)
    p95 = comparison.steps[0][Measure.P95]
    sent = by_sent_time(run.latency).window(T0 + 12, T0 + 60)
    assert p95.a.value == percentile(sorted(sent.values), 95)
    rps = comparison.steps[0][Measure.RPS]
    assert rps.a.value == pytest.approx(len(sent) / 48)
    assert p95.a.low is not None and p95.a.high is not None
    assert p95.a.low <= p95.a.value <= p95.a.high


def test_a_large_change_is_significant_and_no_change_is_not() -> None:
    slow, fast = synthetic(20, 3000.0, 5.0, seed=1), synthetic(20, 200.0, 5.0, seed=2)
    comparison = compare_runs(slow, fast, resamples=300)
    p95 = comparison.steps[0][Measure.P95]
    assert p95.significant is True
    assert p95.delta.high is not None and p95.delta.high < 0
    assert p95.ratio is not None and p95.ratio < 0.2
    same = compare_runs(slow, synthetic(20, 3000.0, 5.0, seed=3), resamples=300)
    assert same.steps[0][Measure.P95].significant is False


def test_the_same_seed_gives_the_same_intervals() -> None:
    a, b = synthetic(5, 300.0, 4.0, seed=1), synthetic(5, 250.0, 4.0, seed=2)
    first, second = compare_runs(a, b, seed=9), compare_runs(a, b, seed=9)
    assert first == second
    assert compare_runs(a, b, seed=10) != first


def test_steps_are_matched_by_users_and_unmatched_ones_listed() -> None:
    a = run_of([step(1, 0, p95_ms=100.0), step(5, 1, p95_ms=300.0)])
    b = run_of([step(5, 0, p95_ms=150.0), step(20, 1, p95_ms=900.0)])
    comparison = compare_runs(a, b, resamples=50)
    assert [s.users for s in comparison.steps] == [5]
    assert (comparison.only_a, comparison.only_b) == ((1,), (20,))
    # Without raw samples, steps.json's figure is used, without an interval.
    p95 = comparison.steps[0][Measure.P95]
    assert (p95.a.value, p95.b.value, p95.delta.value) == (300.0, 150.0, -150.0)
    assert p95.a.low is None and p95.significant is None
    assert comparison.step(20) is None


def test_runs_with_different_task_counts_are_also_compared_per_task() -> None:
    one = run_of([step(600, 0, rps=300.0, cpu_utilization=98.0)], tasks=1)
    four = synthetic(600, 200.0, 20.0, seed=4)
    four = run_of(list(four.steps), latency=four.latency, service_cpu=four.service_cpu, tasks=4)
    comparison = compare_runs(one, four, resamples=200)
    assert comparison.per_task and (comparison.tasks_a, comparison.tasks_b) == (1, 4)
    [shared] = comparison.steps
    part = shared.per_task
    assert part is not None
    assert (part.users_a, part.users_b) == (600.0, 150.0)
    rps = shared[Measure.RPS]
    assert part.rps_a.value == rps.a.value == 300.0  # from steps.json: no interval
    assert part.rps_a.low is None
    # B's RPS and its interval, each divided by its four tasks.
    assert rps.b.value is not None and rps.b.low is not None and rps.b.high is not None
    assert part.rps_b.value == pytest.approx(rps.b.value / 4)
    assert (part.rps_b.low, part.rps_b.high) == pytest.approx((rps.b.low / 4, rps.b.high / 4))
    assert part.rps_ratio == pytest.approx(rps.b.value / 4 / 300.0)
    # The same task count: nothing to divide.
    same = compare_runs(one, one, resamples=20)
    assert not same.per_task and same.steps[0].per_task is None
