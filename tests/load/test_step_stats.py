"""Per-step statistics from exact records: windows, steady window, percentiles, task series."""

from __future__ import annotations

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from rightsizer.load.records import RequestRecord
from rightsizer.load.step_stats import (
    Latency,
    ServerSeries,
    StepWindow,
    step_stats,
    step_windows,
    steps_document,
)

T0 = 1_800_000_000.0


def record(start: float, ms: float, ok: bool = True, name: str = "/a") -> RequestRecord:
    return RequestRecord(T0 + start, name, "GET", ms, ok, 10)


def exact_percentile(values: list[float], p: float) -> float:
    """Nearest rank from the definition: the smallest value with at least p% at or below it."""
    ordered = sorted(values)
    for value in ordered:
        if sum(1 for v in ordered if v <= value) * 100 >= p * len(ordered):
            return value
    return ordered[-1]


def test_windows_follow_the_actual_step_starts() -> None:
    starts = [T0, T0 + 10.4, T0 + 20.9]
    windows = step_windows(starts, (1, 3, 20), T0 + 30.2, 0.2)
    assert [(w.start, w.end) for w in windows] == [
        (starts[0], starts[1]),
        (starts[1], starts[2]),
        (starts[2], T0 + 30.2),
    ]
    assert math.isclose(windows[1].steady_start, starts[1] + 0.2 * (starts[2] - starts[1]))
    assert [w.last for w in windows] == [False, False, True]
    assert [w.users for w in windows] == [1, 3, 20]


def test_counts_cover_the_step_rates_and_percentiles_the_steady_window() -> None:
    windows = step_windows([T0, T0 + 10], (1, 2), T0 + 20, 0.5)
    records = [
        record(1, 1000, ok=False),  # warm-up of step 1: counted, not in rates/percentiles
        record(6, 10),
        record(7, 20),
        record(9.99, 30, ok=False),
        record(12, 5),  # warm-up of step 2
        record(16, 7),
    ]
    first, second = step_stats(records, windows, ServerSeries())
    assert (first.requests_total, first.failures) == (4, 2)
    assert first.rps == 3 / 5
    assert first.fail_ratio == 1 / 3
    assert first.latency == Latency(20, 30, 30, 30, 30, count=3)
    assert (second.requests_total, second.failures, second.rps) == (2, 0, 1 / 5)
    assert second.latency.max == 7


def test_requests_users_finished_after_the_load_stopped_count_in_the_last_step() -> None:
    windows = step_windows([T0, T0 + 10], (1, 2), T0 + 20, 0.2)
    records = [record(15, 10), record(20.5, 40), record(22, 50)]  # sent during the drain
    stats = step_stats(records, windows, ServerSeries())
    assert stats[1].requests_total == 3
    assert stats[1].latency.max == 10  # the drain is not part of the steady window
    assert sum(s.requests_total for s in stats) == len(records)


def test_an_empty_step_has_counts_of_zero_and_no_percentiles() -> None:
    windows = step_windows([T0, T0 + 10], (1, 2), T0 + 20, 0.2)
    first, second = step_stats([record(1, 5)], windows, ServerSeries())
    assert first.requests_total == 1
    assert (second.requests_total, second.failures, second.rps) == (0, 0, 0.0)
    assert second.fail_ratio is None
    assert second.latency == Latency()
    assert second.requests == {}
    assert second.cpu_utilization is None


def test_per_name_figures() -> None:
    windows = step_windows([T0], (2,), T0 + 10, 0.0)
    records = [record(1, 10, name="/a"), record(2, 30, name="/b", ok=False), record(3, 20)]
    (stats,) = step_stats(records, windows, ServerSeries())
    doc = steps_document([stats])["steps"][0]
    assert doc["requests"]["/a"] == {
        "count": 2,
        "failures": 0,
        "rps": 0.2,
        "p50_ms": 10,
        "p95_ms": 20,
        "p99_ms": 20,
        "max_ms": 20,
    }
    assert doc["requests"]["/b"]["failures"] == 1
    assert set(doc) == {
        "index", "users", "start", "end", "steady_start", "requests_total", "failures",
        "fail_ratio", "rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms",
        "cpu_utilization", "cpu_utilization_max", "memory_utilization", "generator_cpu",
        "generator_bound", "p95_early_ms", "answered_early", "p95_late_ms", "answered_late",
        "requests", "generator_cpu_by_process", "generator_busy_by_process",
        "generator_bound_processes", "complete", "lost_workers",
    }  # fmt: skip


def test_task_series_in_the_steady_window_only() -> None:
    windows = step_windows([T0, T0 + 10], (1, 2), T0 + 20, 0.5)
    # Two tasks sampled every second: service-level samples, one per task per tick.
    cpu = [(T0 + t + 0.5, 10.0 + (t >= 10) * 40 + task * 10) for t in range(20) for task in (0, 1)]
    memory = [(T0 + t + 0.5, 30.0) for t in range(20)]
    generator = [(T0 + t + 0.5, 90.0 if t == 17 else 20.0) for t in range(20)]
    first, second = step_stats([], windows, ServerSeries(cpu, memory, generator))
    assert first.cpu_utilization == 15.0
    assert first.cpu_utilization_max == 20.0
    assert second.cpu_utilization == 55.0
    assert second.cpu_utilization_max == 60.0
    assert first.memory_utilization == 30.0
    assert not first.generator_bound
    assert second.generator_bound
    assert math.isclose(second.generator_cpu or 0, (4 * 20 + 90) / 5)


def test_a_sample_before_steady_start_is_left_out() -> None:
    windows = step_windows([T0], (1,), T0 + 10, 0.5)
    (stats,) = step_stats([], windows, ServerSeries(cpu=[(T0 + 4.9, 99.0), (T0 + 5.0, 1.0)]))
    assert stats.cpu_utilization == 1.0


@given(st.lists(st.floats(0.01, 60_000, allow_nan=False), min_size=1, max_size=400))
def test_percentiles_equal_an_exact_sort_of_the_raw_latencies(latencies: list[float]) -> None:
    rng = random.Random(len(latencies))
    records = [record(rng.uniform(2, 9.99), ms) for ms in latencies]
    windows = step_windows([T0], (5,), T0 + 10, 0.2)
    (stats,) = step_stats(records, windows, ServerSeries())
    for p, got in ((50, stats.latency.p50), (90, stats.latency.p90), (95, stats.latency.p95),
                   (99, stats.latency.p99)):  # fmt: skip
        assert got == exact_percentile(latencies, p)
        assert got is not None and got <= max(latencies)
    assert stats.latency.max == max(latencies)
    assert stats.requests_total == len(latencies)


def test_answered_latency_sees_the_queue_at_the_end_of_a_step() -> None:
    window = StepWindow(1, 100, start=100.0, end=110.0, steady_start=102.0)
    records = [
        # sent early in the step, answered in the second half of the steady part: a deep queue
        RequestRecord(100.2, "/", "GET", 7000.0, True, 1),
        RequestRecord(101.0, "/", "GET", 6000.0, True, 1),
        # sent and answered in the second half
        RequestRecord(107.0, "/", "GET", 10.0, True, 1),
        # the start-up burst, answered in the first half of the steady part: drained, not counted
        RequestRecord(100.5, "/", "GET", 3000.0, True, 1),
        RequestRecord(100.1, "/", "GET", 1000.0, True, 1),
        # sent in the step before: its backlog is that step's
        RequestRecord(98.0, "/", "GET", 9500.0, True, 1),
    ]
    (stats,) = step_stats(records, [window], ServerSeries())
    latency = stats.answered
    assert latency.max == 7000.0 and latency.p50 == 6000.0
