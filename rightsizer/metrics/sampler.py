"""The sampler seam and the loop that drives every sampler once per tick.

A `Sampler` is anything with `sample(now) -> Iterable[Sample]`: cgroup readings, HAProxy stats,
a CloudWatch or Prometheus query. The loop ticks on epoch-aligned multiples of the interval
(so no sample straddles a period boundary), writes each tick's samples to the store in one batch
and keeps the latest ones in memory for `/metrics` and `rightsizer status`.

    loop = SamplingLoop([TaskSampler(fleet, ...), HAProxySampler(api, fleet)], 1.0, store)
    loop.start(); ...; loop.stop()
    loop.write_failures, loop.dropped     # what the store refused, what was given up on

A write the store refuses (`database is locked`, a full disk) does not stop sampling: the batch
is kept in memory (at most `max_unsaved` samples, the oldest given up first and counted in
`dropped`) and written with the next tick's; each failure is counted in `write_failures`, said
once per kind of error, and the batch that finally lands carries a SamplerWriteFailures sample
(rightsizer.metrics.names). Nothing a tick raises ends the thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from rightsizer.errors import RightsizerError
from rightsizer.metrics.names import SAMPLER_WRITE_FAILURES
from rightsizer.metrics.recent import Recent
from rightsizer.metrics.store import MetricKey, MetricStore, Sample

log = logging.getLogger(__name__)
# Samples kept while the store refuses writes: some minutes of a small fleet, about 10 MB.
MAX_UNSAVED = 50_000
_FAILURES = MetricKey.of(SAMPLER_WRITE_FAILURES)
_MAX_SAID = 50


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
        *,
        max_unsaved: int = MAX_UNSAVED,
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
        self.write_failures = 0  # store writes that failed (their samples were retried)
        self.dropped = 0  # unsaved samples given up on, the oldest, past `max_unsaved`
        self._unsaved: deque[Sample] = deque(maxlen=max_unsaved)
        self._failed_since_write = 0
        self._said: set[str] = set()

    @property
    def unsaved(self) -> int:
        """Samples waiting for the store to take them again."""
        return len(self._unsaved)

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
        if self.store is not None:
            self._write(self.store, now, batch)
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
            # Sampling goes on for the whole run: a tick that fails is said, not fatal.
            try:
                self.tick(next_tick)
            except Exception as exc:  # noqa: BLE001 (said once per kind; the next tick runs)
                self._say_once(f"a sampling tick failed ({exc.__class__.__name__}: {exc})")
            self.cpu_seconds += time.thread_time() - started

    def _write(self, store: MetricStore, now: float, batch: list[Sample]) -> None:
        """Store the unsaved samples and `batch` in one transaction, or keep them for the
        next tick (bounded) when the store refuses."""
        pending = [*self._unsaved, *batch]
        if self._failed_since_write:
            pending.append(Sample(_FAILURES, now, float(self._failed_since_write), "Count"))
        if not pending:
            return
        try:
            store.put_many(pending)
        # Whatever the store raises (locked, disk full, I/O error), the samples wait.
        except Exception as exc:  # noqa: BLE001 (counted, said once per kind, retried)
            self.write_failures += 1
            self._failed_since_write += 1
            overflow = len(self._unsaved) + len(batch) - (self._unsaved.maxlen or 0)
            if overflow > 0:
                self.dropped += overflow
                self._say_once(
                    f"the store has refused samples for long: dropping the oldest of those "
                    f"kept (more than {self._unsaved.maxlen})"
                )
            self._unsaved.extend(batch)
            self._say_once(
                f"cannot write samples to {store.path} ({exc.__class__.__name__}: {exc}); "
                "keeping them and retrying each tick (said once per kind of error)"
            )
            return
        self._unsaved.clear()
        self._failed_since_write = 0

    def _say_once(self, message: str) -> None:
        # Bounded too: errors whose text keeps changing must not grow the set for ever.
        if message not in self._said and len(self._said) < _MAX_SAID:
            self._said.add(message)
            log.warning("%s", message)
