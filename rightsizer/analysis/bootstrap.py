"""Block bootstrap over seconds: confidence intervals for step statistics.

Requests in one second are not independent (they share the server's state at that moment),
so the unit resampled is a whole second, not a request. A resample draws the window's seconds
with replacement; `weights[r, s]` says how often second s was drawn in resample r. Every
statistic is then a weighted one over the original samples, which keeps memory at one row of
weights per resample instead of copies of the data.

    rng = np.random.default_rng(seed)
    w = second_weights(n_seconds=60, resamples=1000, rng=rng)
    lows, highs = interval(weighted_percentiles(latencies, seconds, [95], w)[0], 0.95)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
# Rows of the (resamples x samples) weight matrix handled at once: bounds memory to ~40 MB.
_CELLS_PER_CHUNK = 5_000_000


def second_weights(n_seconds: int, resamples: int, rng: np.random.Generator) -> IntArray:
    """How often each second is drawn, one row per resample (rows sum to n_seconds)."""
    if n_seconds < 1 or resamples < 1:
        raise ValueError("need at least one second and one resample")
    drawn = rng.integers(0, n_seconds, size=(resamples, n_seconds))
    # Count per row in one bincount: row r's seconds are shifted to r * n_seconds + second.
    flat = (drawn + np.arange(resamples)[:, None] * n_seconds).ravel()
    counts = np.bincount(flat, minlength=resamples * n_seconds)
    return np.asarray(counts.reshape(resamples, n_seconds), dtype=np.int64)


def weighted_percentiles(
    values: FloatArray, seconds: IntArray, ps: Sequence[float], weights: IntArray
) -> FloatArray:
    """Nearest-rank percentiles `ps` of `values` (second `seconds[i]` each), one row per p and
    one column per resample; NaN for a resample that drew only empty seconds."""
    order = np.argsort(values, kind="stable")
    ordered, groups = values[order], seconds[order]
    result = np.full((len(ps), weights.shape[0]), np.nan)
    if ordered.size == 0:
        return result
    # int32 sums are exact below 2**31 and much faster (numpy widens int32 cumsums otherwise).
    kind = np.int32 if int(weights.max(initial=0)) * ordered.size < 2**31 else np.int64
    rows = max(1, _CELLS_PER_CHUNK // ordered.size)
    for first in range(0, weights.shape[0], rows):
        chunk = weights[first : first + rows].astype(kind)
        cumulative = np.cumsum(chunk[:, groups], axis=1, dtype=kind)
        total = cumulative[:, -1].astype(np.float64)
        for row, p in enumerate(ps):
            rank = np.maximum(1, np.ceil(p * total / 100 - 1e-9)).astype(kind)
            index = np.count_nonzero(np.less(cumulative, rank[:, None]), axis=1)
            picked = ordered[np.minimum(index, ordered.size - 1)]
            picked[total == 0] = np.nan
            result[row, first : first + rows] = picked
    return result


def weighted_mean(per_second: FloatArray, weights: IntArray) -> FloatArray:
    """Mean of one value per second, per resample."""
    return np.asarray(weights @ per_second / weights.sum(axis=1), dtype=np.float64)


def weighted_ratio(
    numerator: FloatArray, denominator: FloatArray, weights: IntArray, scale: float = 1.0
) -> FloatArray:
    """sum(numerator) / sum(denominator) x scale over the drawn seconds, per resample."""
    top = weights @ numerator
    bottom = weights @ denominator
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(bottom > 0, top / bottom * scale, np.nan), dtype=np.float64)


def interval(estimates: FloatArray, confidence: float) -> tuple[float, float] | None:
    """Percentile interval of the bootstrap estimates; None when none is finite."""
    finite = estimates[np.isfinite(estimates)]
    if finite.size == 0:
        return None
    tail = (1 - confidence) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)
