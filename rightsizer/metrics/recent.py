"""The last few ticks of samples, in memory, for live views (`/metrics`, `/status`)."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Sequence

from rightsizer.metrics.store import MetricKey, Sample


class Recent:
    """A bounded window of (tick time, samples) batches; safe across threads."""

    def __init__(self, ticks: int = 30) -> None:
        self._batches: deque[tuple[float, tuple[Sample, ...]]] = deque(maxlen=ticks)
        self._lock = threading.Lock()

    def add(self, now: float, samples: Sequence[Sample]) -> None:
        with self._lock:
            self._batches.append((now, tuple(samples)))

    def latest(self) -> tuple[Sample, ...]:
        """The newest tick's samples (empty before the first tick)."""
        return self.newest()[1]

    def newest(self) -> tuple[float | None, tuple[Sample, ...]]:
        """The newest tick's time and samples ((None, ()) before the first tick)."""
        with self._lock:
            return self._batches[-1] if self._batches else (None, ())

    def values(self, key: MetricKey, seconds: float) -> list[float]:
        """Values of `key` from the ticks of the last `seconds` (newest tick's time as now)."""
        with self._lock:
            if not self._batches:
                return []
            newest = self._batches[-1][0]
            return [
                s.value
                for tick, batch in self._batches
                if tick > newest - seconds
                for s in batch
                if s.key == key
            ]

    def mean(self, key: MetricKey, seconds: float) -> float | None:
        found = self.values(key, seconds)
        return math.fsum(found) / len(found) if found else None
