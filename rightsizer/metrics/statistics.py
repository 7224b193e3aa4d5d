"""CloudWatch statistics over the raw samples of one period.

`Statistic.parse("Average")`, `Statistic.parse("p95")`; `stat.of([1.0, 2.0, 3.0])`.
Percentiles use the nearest-rank definition, so a percentile is always a value that was
observed and is never above the maximum.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100)$")


class Basic(Enum):
    """The five plain statistics of PutMetricAlarm's `Statistic` field."""

    AVERAGE = "Average"
    MAXIMUM = "Maximum"
    MINIMUM = "Minimum"
    SUM = "Sum"
    SAMPLE_COUNT = "SampleCount"


@dataclass(frozen=True)
class Statistic:
    """A plain statistic or a percentile (`ExtendedStatistic`: p0..p100)."""

    basic: Basic | None = None
    percentile: float | None = None

    @classmethod
    def parse(cls, text: str) -> Statistic:
        """`Average`, `Maximum`, ... or `p90`, `p99.9`; ValueError otherwise."""
        for basic in Basic:
            if text == basic.value:
                return cls(basic=basic)
        match = _PERCENTILE.match(text)
        if match:
            return cls(percentile=float(match.group(1)))
        names = ", ".join(b.value for b in Basic)
        raise ValueError(f"unknown statistic {text!r}; use one of {names} or pNN such as p95")

    @property
    def name(self) -> str:
        if self.basic is not None:
            return self.basic.value
        assert self.percentile is not None
        return f"p{self.percentile:g}"

    @property
    def is_extended(self) -> bool:
        return self.percentile is not None

    def of(self, values: Sequence[float]) -> float:
        """The statistic of a non-empty sequence of samples."""
        if not values:
            raise ValueError("a statistic needs at least one sample")
        if self.percentile is not None:
            return percentile(sorted(values), self.percentile)
        match self.basic:
            case Basic.AVERAGE:
                return math.fsum(values) / len(values)
            case Basic.MAXIMUM:
                return max(values)
            case Basic.MINIMUM:
                return min(values)
            case Basic.SUM:
                return math.fsum(values)
            case Basic.SAMPLE_COUNT:
                return float(len(values))
        raise AssertionError(self)


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending sequence: p50 of [1, 2, 3, 4] is 2."""
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    # p * n / 100 (not p / 100 * n) keeps whole-number ranks exact in floating point.
    rank = max(1, math.ceil(p * len(ordered) / 100 - 1e-9))
    return ordered[rank - 1]
