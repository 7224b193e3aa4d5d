"""A metric store that refuses writes (another writer's lock, a full disk, which uploads on the
same disk make plausible) must not stop sampling for the rest of the run: the sampler logs
once per kind of error, counts, keeps the samples (bounded) and writes them with the next
batch, and the report draws what was never sampled as a gap."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rightsizer.metrics.names import SAMPLER_WRITE_FAILURES
from rightsizer.metrics.sampler import SamplingLoop
from rightsizer.metrics.store import MetricKey, MetricStore, Sample
from rightsizer.report.charts import broken_at_gaps

KEY = MetricKey.of("X")
FAILURES = MetricKey.of(SAMPLER_WRITE_FAILURES)
SETTLED = 30.0  # generous: conditions are polled, never timed


class Counting:
    """A sampler: one sample per tick, its value the tick's number."""

    def __init__(self) -> None:
        self.calls = 0

    def sample(self, now: float) -> Iterator[Sample]:
        self.calls += 1
        yield Sample(KEY, now - 0.5, float(self.calls))


class Burst:
    """A sampler of `size` samples per tick."""

    def __init__(self) -> None:
        self.size = 1

    def sample(self, now: float) -> Iterator[Sample]:
        return iter([Sample(KEY, now - 0.5 + i / 1e6, 1.0) for i in range(self.size)])


class Lock:
    """Another connection holding the store's write lock (BEGIN EXCLUSIVE) until released."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetricStore]:
    # A short busy timeout: each refused write fails in 0.05 s instead of the default 10 s.
    with MetricStore(tmp_path / "metrics.db", busy_timeout=0.05) as s:
        yield s


def until(condition: object, what: str) -> None:
    deadline = time.monotonic() + SETTLED
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_a_locked_store_loses_no_sample_and_says_so_once(
    store: MetricStore, caplog: pytest.LogCaptureFixture
) -> None:
    loop = SamplingLoop([Counting()], 1.0, store)
    lock = Lock(store.path)
    with caplog.at_level(logging.WARNING, logger="rightsizer.metrics.sampler"):
        loop.tick(10.0)
        loop.tick(11.0)
    lock.release()
    assert (loop.write_failures, loop.unsaved) == (2, 2)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "database is locked" in said[0]
    assert loop.recent.latest() == (Sample(KEY, 10.5, 2.0),)  # status still sees the latest

    loop.tick(12.0)
    assert store.samples(KEY) == [(9.5, 1.0), (10.5, 2.0), (11.5, 3.0)]
    assert store.samples(FAILURES) == [(12.0, 2.0)]
    assert (loop.write_failures, loop.unsaved, loop.dropped) == (2, 0, 0)


def test_a_full_disk_is_another_kind_of_error_said_once_too(
    store: MetricStore, caplog: pytest.LogCaptureFixture
) -> None:
    burst = Burst()
    loop = SamplingLoop([burst], 1.0, store)
    loop.tick(10.0)
    # SQLite's own "database or disk is full": the file may not grow by another page.
    store.rows("PRAGMA max_page_count = 1")
    lock = Lock(store.path)
    with caplog.at_level(logging.WARNING, logger="rightsizer.metrics.sampler"):
        loop.tick(11.0)
        loop.tick(12.0)
        lock.release()
        burst.size = 5000
        loop.tick(13.0)
        loop.tick(14.0)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2
    assert "database is locked" in said[0] and "database or disk is full" in said[1]
    assert loop.write_failures == 4
    store.rows("PRAGMA max_page_count = 1073741823")
    loop.tick(15.0)
    assert len(store.samples(KEY)) == 3 + 3 * 5000
    assert store.samples(FAILURES) == [(15.0, 4.0)]
    assert loop.unsaved == 0


def test_the_sampler_thread_outlives_a_locked_store(store: MetricStore) -> None:
    counting = Counting()
    loop = SamplingLoop([counting], 0.05, store)
    lock = Lock(store.path)
    loop.start()
    try:
        until(lambda: loop.write_failures >= 2, "no write was tried")
        lock.release()
        until(lambda: loop.unsaved == 0 and len(store.samples(KEY)) >= 3, "nothing stored")
        stored = len(store.samples(KEY))
        until(lambda: len(store.samples(KEY)) > stored, "sampling stopped")
    finally:
        loop.stop()
    values = [v for _, v in store.samples(KEY)]
    assert values == sorted(values) and values[0] == 1.0  # nothing sampled was lost
    assert store.samples(FAILURES)


def test_the_samples_kept_are_bounded(store: MetricStore) -> None:
    loop = SamplingLoop([Counting()], 1.0, store, max_unsaved=5)
    lock = Lock(store.path)
    for tick in range(10, 20):
        loop.tick(float(tick))
    lock.release()
    assert (loop.unsaved, loop.dropped, loop.write_failures) == (5, 5, 10)
    loop.tick(20.0)
    assert [v for _, v in store.samples(KEY)] == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]


def test_the_report_draws_unsampled_seconds_as_a_gap() -> None:
    """Seconds 4-9 were never sampled: the line stops and starts again, not drawn across."""
    times = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0])
    values = np.array([5.0, 6.0, 7.0, 8.0, 50.0, 51.0, 52.0])
    drawn_times, drawn = broken_at_gaps(times, values)
    assert len(drawn) == len(values) + 1
    assert np.isnan(drawn[4]) and 3.0 < drawn_times[4] < 10.0
    assert list(drawn[~np.isnan(drawn)]) == list(values)
    assert list(drawn_times[[0, 1, 2, 3, 5, 6, 7]]) == list(times)
    # An ordinary late tick (under 2.5 steps) is not a gap.
    late = np.array([0.0, 1.0, 2.0, 4.2, 5.0, 6.0])
    assert broken_at_gaps(late, np.ones(6))[0].tolist() == late.tolist()
