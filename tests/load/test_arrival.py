"""The open model's schedule and its per-step figures, on hand-made slots and iterations."""

from __future__ import annotations

import pytest

from rightsizer.errors import UsageError
from rightsizer.load.arrival import ArrivalSchedule, Iteration, parse_rates
from rightsizer.load.records import RequestRecord, from_row
from rightsizer.load.step_stats import ServerSeries, step_stats, step_windows


def test_rates_parse_and_refuse_in_one_line() -> None:
    assert parse_rates("50, 100,200.5") == (50.0, 100.0, 200.5)
    bad = [
        ("", "empty step"),
        ("5,x", "'x' in '5,x' is not a number"),
        ("5,-1", "-1 in '5,-1' is out of range"),
        ("nan", "out of range"),
    ]
    for text, fragment in bad:
        with pytest.raises(UsageError, match=fragment):
            parse_rates(text)


def test_slots_follow_the_rate_and_a_new_step_drops_the_old_ones_not_yet_due() -> None:
    schedule = ArrivalSchedule()
    assert schedule.claim() is None  # before the first step
    schedule.begin_step(100.0, rate=4.0)
    first = [schedule.claim() for _ in range(6)]
    assert [slot.at for slot in first if slot] == [100.0, 100.25, 100.5, 100.75, 101.0, 101.25]
    schedule.begin_step(101.0, rate=10.0)
    # Slots of the old step due before the new one began still run; the others are dropped.
    assert [schedule.holds(slot) for slot in first if slot] == [True] * 4 + [False] * 2
    after = schedule.claim()
    assert after is not None and after.at == 101.0 and schedule.holds(after)
    schedule.stop()
    assert schedule.claim() is None and not schedule.holds(after)


def test_a_step_counts_due_started_late_dropped_and_the_users_it_needed() -> None:
    # 10 slots a second for 2 s (20 due), of which 12 started: the first 8 on time (50 ms
    # each), then 4 late by 0.3 s each (500 ms each); 8 never started.
    on_time = [Iteration(10.0 + i / 10, 10.0 + i / 10, 10.05 + i / 10) for i in range(8)]
    late = [Iteration(10.8 + i / 10, 11.1 + i / 10, 11.6 + i / 10) for i in range(4)]
    (window,) = step_windows([10.0], [3], 12.0, 0.0, rates=[10.0])
    records = [
        RequestRecord(it.start, "/", "GET", (it.end - it.start) * 1000, True, 1, it.intended)
        for it in on_time + late
        if it.end is not None
    ]
    (stats,) = step_stats(records, [window], ServerSeries(), iterations=on_time + late)
    arrival = stats.arrival
    assert arrival is not None
    assert (arrival.due, arrival.started, arrival.late, arrival.dropped) == (20, 12, 4, 8)
    assert arrival.achieved_rate == pytest.approx(12 / 2.0)
    assert arrival.max_late_ms == pytest.approx(300.0)
    # Little's law: 10 a second x a mean iteration of (8 x 0.05 + 4 x 0.5) / 12 s.
    assert arrival.users_needed == 2
    assert stats.latency.max == pytest.approx(500.0)
    assert arrival.corrected.max == pytest.approx(800.0)  # 300 ms late + 500 ms
    assert stats.as_dict()["arrival"]["dropped_starts"] == 8


def test_a_closed_model_step_has_no_arrival_figures() -> None:
    (window,) = step_windows([10.0], [3], 12.0, 0.0)
    (stats,) = step_stats([RequestRecord(10.5, "/", "GET", 5.0, True, 1)], [window], ServerSeries())
    assert stats.arrival is None and "arrival" not in stats.as_dict()


def test_rows_keep_the_intended_start_and_old_rows_still_read() -> None:
    record = RequestRecord(2.5, "/a", "GET", 100.0, True, 7, 2.0)
    assert from_row(record.as_row()) == record
    assert record.corrected_ms == pytest.approx(600.0)
    closed = RequestRecord(2.5, "/a", "GET", 100.0, True, 7)
    assert len(closed.as_row()) == 6 and from_row(closed.as_row()) == closed
    assert closed.corrected_ms is None
