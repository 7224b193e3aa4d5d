from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from rightsizer.errors import UnavailableError
from rightsizer.metrics.sampler import SamplingLoop
from rightsizer.metrics.store import MetricKey, MetricStore, Sample
from tests.waiting import poll_until

KEY = MetricKey.of("X")


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def sample(self, now: float) -> Iterator[Sample]:
        self.calls += 1
        yield Sample(KEY, now - 0.5, float(self.calls))


class Burning(Counting):
    """Spends `BURN` seconds of its thread's CPU on each sample: what the loop must count."""

    BURN = 0.005

    def sample(self, now: float) -> Iterator[Sample]:
        started = time.thread_time()
        while time.thread_time() - started < self.BURN:
            pass
        yield from super().sample(now)


class Broken:
    def sample(self, now: float) -> Iterator[Sample]:
        raise UnavailableError("HAProxy restarting")


def test_each_tick_writes_one_batch_and_a_broken_source_does_not_stop_others(
    tmp_path: Path,
) -> None:
    with MetricStore(tmp_path / "m.db") as store:
        loop = SamplingLoop([Broken(), Counting()], 1.0, store)
        batch = loop.tick(10.0)
        loop.tick(11.0)
        assert batch == [Sample(KEY, 9.5, 1.0)]
        assert store.samples(KEY) == [(9.5, 1.0), (10.5, 2.0)]
        assert loop.recent.latest() == (Sample(KEY, 10.5, 2.0),)
        assert loop.recent.mean(KEY, 5) == 1.5


def test_the_thread_ticks_on_aligned_boundaries_and_stops() -> None:
    # No count per wall-clock time (a loaded machine may delay any tick): it must tick, on
    # aligned times, and not once more after stop().
    counting = Burning()
    loop = SamplingLoop([counting], 0.05)
    loop.start()
    poll_until(lambda: counting.calls >= 3, 30, "three ticks of the loop")
    loop.stop()
    stopped_at = counting.calls
    assert loop.ticks == stopped_at
    time.sleep(0.2)  # four intervals in which nothing may happen: the sleep is the test
    assert counting.calls == stopped_at
    ticks = [s.timestamp + 0.5 for s in loop.recent.latest()]
    assert ticks and all(abs(t * 20 - round(t * 20)) < 1e-6 for t in ticks)
    assert loop.cpu_seconds >= stopped_at * Burning.BURN  # each tick's burn, counted
