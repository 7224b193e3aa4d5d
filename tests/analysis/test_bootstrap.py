from __future__ import annotations

import numpy as np
import pytest

from rightsizer.analysis import bootstrap
from rightsizer.metrics.statistics import percentile


def test_weights_draw_every_second_count_times_in_total() -> None:
    weights = bootstrap.second_weights(30, 200, np.random.default_rng(1))
    assert weights.shape == (200, 30)
    assert set(weights.sum(axis=1)) == {30}
    again = bootstrap.second_weights(30, 200, np.random.default_rng(1))
    assert np.array_equal(weights, again)  # seeded: reproducible


def test_weighted_percentiles_equal_the_percentiles_of_the_resampled_data() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(5, 1, 500)
    seconds = rng.integers(0, 40, 500)
    weights = bootstrap.second_weights(40, 50, rng)
    ps = (50.0, 95.0, 99.0)
    every = bootstrap.weighted_percentiles(values, seconds, ps, weights)
    for p, got in zip(ps, every, strict=True):
        for row, estimate in zip(weights, got, strict=True):
            # Brute force: copy each second's values as often as it was drawn.
            drawn = np.concatenate([np.repeat(values[seconds == s], row[s]) for s in range(40)])
            assert estimate == percentile(sorted(drawn), p)


def test_all_ones_weights_give_the_plain_statistics() -> None:
    values = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    seconds = np.array([0, 1, 2, 3, 4])
    ones = np.ones((1, 5), dtype=np.int64)
    assert bootstrap.weighted_percentiles(values, seconds, [50], ones)[0][0] == 3.0
    assert bootstrap.weighted_mean(values, ones)[0] == 3.0
    assert bootstrap.weighted_ratio(values, values * 4, ones, scale=100)[0] == 25.0


def test_a_resample_of_only_empty_seconds_is_nan() -> None:
    weights = np.array([[2, 0], [1, 1]], dtype=np.int64)
    (got,) = bootstrap.weighted_percentiles(np.array([7.0]), np.array([1]), [95], weights)
    assert np.isnan(got[0]) and got[1] == 7.0
    assert bootstrap.interval(got, 0.95) == (7.0, 7.0)
    assert bootstrap.interval(np.array([np.nan]), 0.95) is None


def test_interval_is_the_central_share_of_the_estimates() -> None:
    low, high = bootstrap.interval(np.arange(1001, dtype=float), 0.9) or (0, 0)
    assert low == pytest.approx(50.0) and high == pytest.approx(950.0)


def test_no_second_is_refused() -> None:
    with pytest.raises(ValueError):
        bootstrap.second_weights(0, 10, np.random.default_rng())
