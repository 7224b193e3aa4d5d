"""A time series as the analysis and the charts see it: epoch-second timestamps and values.

cpu = Series((t0, t0 + 1), (37.5, 41.0))
cpu.window(t0, t0 + 60).mean()
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    """Samples oldest first; `times` and `values` have the same length."""

    times: tuple[float, ...] = ()
    values: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.times) != len(self.values):
            raise ValueError("a series needs as many times as values")

    @classmethod
    def of(cls, pairs: Iterable[tuple[float, float]]) -> Series:
        """From (timestamp, value) pairs, sorted by time."""
        ordered = sorted(pairs)
        return cls(tuple(t for t, _ in ordered), tuple(v for _, v in ordered))

    def __len__(self) -> int:
        return len(self.times)

    def __bool__(self) -> bool:
        return bool(self.times)

    def window(self, start: float, end: float) -> Series:
        """The samples with start <= timestamp < end."""
        low = bisect.bisect_left(self.times, start)
        high = bisect.bisect_left(self.times, end)
        return Series(self.times[low:high], self.values[low:high])

    def mean(self) -> float | None:
        return math.fsum(self.values) / len(self.values) if self.values else None

    def maximum(self) -> float | None:
        return max(self.values) if self.values else None

    def buckets(
        self, width: float, reduce: Callable[[Sequence[float]], float], origin: float = 0.0
    ) -> Series:
        """One value per `width`-second bucket (aligned to `origin`) that holds samples,
        stamped at the bucket's middle: `reduce` turns the bucket's values into one."""
        groups: dict[int, list[float]] = defaultdict(list)
        for timestamp, value in zip(self.times, self.values, strict=True):
            groups[math.floor((timestamp - origin) / width)].append(value)
        return Series(
            tuple(origin + (k + 0.5) * width for k in sorted(groups)),
            tuple(reduce(groups[k]) for k in sorted(groups)),
        )


def average_across(series: Iterable[Series], width: float = 1.0) -> Series:
    """Per `width`-second bucket, the mean of every sample of every series in it (a service
    average across tasks, as ECS computes it)."""
    merged = Series.of(pair for s in series for pair in zip(s.times, s.values, strict=True))
    return merged.buckets(width, lambda values: math.fsum(values) / len(values))
