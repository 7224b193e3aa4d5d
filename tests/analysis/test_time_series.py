from __future__ import annotations

import pytest

from rightsizer.analysis.time_series import Series, average_across


def test_window_is_half_open() -> None:
    series = Series.of([(3.0, 30.0), (1.0, 10.0), (2.0, 20.0)])
    assert series.times == (1.0, 2.0, 3.0)
    assert series.window(1.0, 3.0).values == (10.0, 20.0)
    assert series.window(5.0, 9.0).mean() is None


def test_buckets_reduce_each_aligned_bucket_and_stamp_its_middle() -> None:
    series = Series((0.5, 1.5, 5.5, 6.0), (1.0, 3.0, 10.0, 20.0))
    assert series.buckets(5.0, max) == Series((2.5, 7.5), (3.0, 20.0))
    shifted = series.buckets(5.0, len, origin=1.0)
    assert shifted.times == (-1.5, 3.5, 8.5)
    assert shifted.values == (1, 2, 1)


def test_average_across_tasks_per_second() -> None:
    a = Series((0.5, 1.5), (10.0, 20.0))
    b = Series((0.5, 1.5), (30.0, 60.0))
    assert average_across([a, b]) == Series((0.5, 1.5), (20.0, 40.0))


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="as many times as values"):
        Series((1.0,), ())
