from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsizer.analysis.usl import fit_usl, usl_throughput

NS = [1, 2, 4, 8, 16, 32, 64]


def test_known_parameters_are_recovered_from_noisy_throughput() -> None:
    rng = np.random.default_rng(42)
    sigma, kappa, lam = 0.05, 0.001, 100.0
    xs = [usl_throughput(n, sigma, kappa, lam) * rng.normal(1, 0.01) for n in NS]
    fit = fit_usl(NS, xs)
    assert fit.sigma == pytest.approx(sigma, abs=0.01)
    assert fit.kappa == pytest.approx(kappa, rel=0.15)
    assert fit.lam == pytest.approx(xs[0])  # lambda is C(1) when N = 1 was measured
    assert fit.kappa_identified
    assert fit.r_squared is not None and fit.r_squared > 0.99
    assert fit.peak_n == pytest.approx(math.sqrt((1 - sigma) / kappa), rel=0.1)
    assert fit.predict(fit.peak_n or 0) == pytest.approx(fit.peak_throughput or 0)


@settings(max_examples=25, deadline=None)
@given(
    sigma=st.floats(0.0, 0.4),
    kappa=st.floats(0.0, 0.01),
    lam=st.floats(1.0, 1000.0),
)
def test_exact_curves_are_fitted_exactly(sigma: float, kappa: float, lam: float) -> None:
    xs = [usl_throughput(n, sigma, kappa, lam) for n in NS]
    fit = fit_usl(NS, xs)
    assert fit.max_relative_error < 1e-3
    assert fit.sigma == pytest.approx(sigma, abs=2e-3)
    assert fit.kappa == pytest.approx(kappa, abs=2e-5)


def test_two_task_counts_fix_kappa_at_zero_and_solve_sigma() -> None:
    # The demo's 1 and 4 tasks: 4 / (1 + 3 sigma) = 31 / 10.
    fit = fit_usl([1, 4], [10.0, 31.0])
    assert not fit.kappa_identified
    assert fit.kappa == 0.0
    assert fit.sigma == pytest.approx((4 * 10.0 / 31.0 - 1) / 3)
    assert fit.r_squared is None
    assert fit.peak_n is None
    assert fit.peak_throughput == pytest.approx(10.0 / fit.sigma)


def test_superlinear_scaling_clips_sigma_at_zero() -> None:
    fit = fit_usl([1, 4], [10.0, 45.0])
    assert fit.sigma == 0.0
    assert fit.peak_throughput is None


def test_without_n_equal_1_lambda_is_fitted_too() -> None:
    ns = [2, 4, 8, 16]
    fit = fit_usl(ns, [usl_throughput(n, 0.1, 0.002, 50.0) for n in ns])
    assert fit.lam == pytest.approx(50.0, rel=1e-4)
    assert fit.sigma == pytest.approx(0.1, abs=1e-4)
    assert fit.kappa == pytest.approx(0.002, rel=1e-3)


@pytest.mark.parametrize(
    ("ns", "xs", "message"),
    [
        ([1, 1], [5.0, 6.0], "two different N"),
        ([1, 2], [5.0], "as many"),
        ([0, 2], [5.0, 6.0], ">= 1"),
        ([1, 2], [5.0, -1.0], "> 0"),
        ([1, 2], [5.0, float("nan")], "> 0"),
    ],
)
def test_bad_input_is_refused(ns: list[float], xs: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_usl(ns, xs)
