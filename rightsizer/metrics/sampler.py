"""The sampler seam and the loop that drives every sampler once per tick.

A `Sampler` is anything with `sample(now) -> Iterable[Sample]`: cgroup readings, HAProxy stats,
a CloudWatch or Prometheus query. The loop ticks on epoch-aligned multiples of the interval
(so no sample straddles a period boundary), writes each tick's samples to the store in one batch
and keeps the latest ones in memory for `/metrics` and `rightsizer status`.

    loop = SamplingLoop([TaskSampler(fleet, ...), HAProxySampler(api, fleet)], 1.0, store)
    loop.start(); ...; loop.stop()
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from rightsizer.errors import RightsizerError
from rightsizer.metrics.recent import Recent
from rightsizer.metrics.store import MetricStore, Sample

log = logging.getLogger(__name__)


class Sampler(Protocol):
    """Reads one source; timestamps are at the middle of the interval each sample measures.

    `now` is the tick's *scheduled* time (epoch-aligned), for timestamps only: the loop may
    run late on a busy machine, so a sampler that computes a rate measures its own interval
    (as `TaskSampler` does with a monotonic clock)."""

    def sample(self, now: float) -> Iterable[Sample]: ...


class SamplingLoop:
    """A daemon thread calling every sampler each `interval` seconds."""

    def __init__(
        self,
        samplers: Sequence[Sampler],
        interval: float,
        store: MetricStore | None = None,
        recent: Recent | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.samplers = list(samplers)
        self.interval = interval
        self.store = store
        self.recent = recent if recent is not None else Recent()
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cpu_seconds = 0.0  # the loop thread's own CPU time: what sampling costs
        self.ticks = 0

    def tick(self, now: float | None = None) -> list[Sample]:
        """Sample every source once, store the batch, remember it; returns the batch."""
        now = self._clock() if now is None else now
        batch: list[Sample] = []
        for sampler in self.samplers:
            try:
                batch.extend(sampler.sample(now))
            except (RightsizerError, OSError) as exc:
                # One broken source (HAProxy restarting) must not stop the others.
                log.warning("sampler %s failed: %s", type(sampler).__name__, exc)
        if self.store is not None and batch:
            self.store.put_many(batch)
        self.recent.add(now, batch)
        self.ticks += 1
        return batch

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rightsizer-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self._clock()
            next_tick = (math.floor(now / self.interval) + 1) * self.interval
            if self._stop.wait(max(0.0, next_tick - now)):
                return
            started = time.thread_time()
            self.tick(next_tick)
            self.cpu_seconds += time.thread_time() - started
