"""The Universal Scalability Law (Gunther): how throughput grows with N tasks (or users).

    C(N) = lambda * N / (1 + sigma * (N - 1) + kappa * N * (N - 1))

sigma is contention (the share of work that queues for one shared thing: Amdahl's serial
part), kappa is coherency (crosstalk that grows with every pair: throughput eventually falls).
Fitted by least squares on relative errors, sigma in [0, 1], kappa >= 0. When N = 1 was
measured, lambda is fixed to C(1), as Gunther normalises; with only two task counts (the demo's
1 and 4) kappa cannot be told apart from sigma, so it is fixed to 0 (Amdahl) and reported as
not identified.

    fit = fit_usl([1, 4], [9.8, 31.0])
    fit.sigma, fit.kappa, fit.predict(8), fit.peak_n
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares


def usl_throughput(n: float, sigma: float, kappa: float, lam: float) -> float:
    """C(N) of the law."""
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


@dataclass(frozen=True)
class UslFit:
    """A fitted law. `r_squared` is None with fewer than 3 points (a fit through two points
    says nothing about its quality); `peak_n` is None when kappa is 0 (no retrograde peak)."""

    sigma: float
    kappa: float
    lam: float
    points: int
    rmse: float
    max_relative_error: float
    r_squared: float | None
    kappa_identified: bool

    def predict(self, n: float) -> float:
        return usl_throughput(n, self.sigma, self.kappa, self.lam)

    @property
    def peak_n(self) -> float | None:
        """N with the highest throughput, sqrt((1 - sigma) / kappa)."""
        if self.kappa <= 0:
            return None
        return math.sqrt(max(0.0, 1 - self.sigma) / self.kappa)

    @property
    def peak_throughput(self) -> float | None:
        """C at `peak_n`; without a peak, the ceiling lambda / sigma (None when sigma is 0)."""
        if self.peak_n is not None:
            return self.predict(self.peak_n)
        return self.lam / self.sigma if self.sigma > 0 else None


def fit_usl(ns: Sequence[float], throughputs: Sequence[float]) -> UslFit:
    """Fit the law; ValueError for fewer than two distinct N or non-positive values."""
    n = np.asarray(ns, dtype=float)
    x = np.asarray(throughputs, dtype=float)
    if n.shape != x.shape or n.ndim != 1:
        raise ValueError("give as many throughputs as N values")
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(x))) or np.any(n < 1) or np.any(x <= 0):
        raise ValueError("N must be >= 1 and throughputs > 0")
    distinct = np.unique(n)
    if distinct.size < 2:
        raise ValueError("a USL fit needs at least two different N")
    ones = x[n == 1]
    fixed_lam = float(ones.mean()) if ones.size else None
    # Three unknowns (two when lambda is C(1)) need three distinct N; else kappa is 0.
    identify_kappa = distinct.size >= 3
    sigma, kappa, lam = _solve(n, x, fixed_lam, identify_kappa)
    return _quality(n, x, (sigma, kappa, lam), kappa_identified=identify_kappa)


def _solve(
    n: NDArray[np.float64], x: NDArray[np.float64], fixed_lam: float | None, with_kappa: bool
) -> tuple[float, float, float]:
    def unpack(p: NDArray[np.float64]) -> tuple[float, float, float]:
        # The solver stops a hair inside a bound; 1e-12 of contention is none.
        sigma = float(p[0]) if p[0] > 1e-9 else 0.0
        kappa = float(p[1]) if with_kappa and p[1] > 1e-12 else 0.0
        lam = fixed_lam if fixed_lam is not None else float(p[-1])
        return sigma, kappa, lam

    def residuals(p: NDArray[np.float64]) -> NDArray[np.float64]:
        sigma, kappa, lam = unpack(p)
        predicted = lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
        return (predicted - x) / x

    start, low, high = [0.05], [0.0], [1.0]
    if with_kappa:
        start, low, high = [*start, 1e-4], [*low, 0.0], [*high, np.inf]
    if fixed_lam is None:
        lam0 = float(np.max(x[n == n.min()] / n.min()))
        start, low, high = [*start, lam0], [*low, lam0 * 1e-6], [*high, np.inf]
    result = least_squares(residuals, start, bounds=(low, high), x_scale="jac", method="trf")
    return unpack(np.asarray(result.x, dtype=float))


def _quality(
    n: NDArray[np.float64],
    x: NDArray[np.float64],
    parameters: tuple[float, float, float],
    *,
    kappa_identified: bool,
) -> UslFit:
    sigma, kappa, lam = parameters
    predicted = lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
    residual = predicted - x
    total = float(np.sum((x - x.mean()) ** 2))
    r_squared = 1 - float(np.sum(residual**2)) / total if n.size >= 3 and total > 0 else None
    return UslFit(
        sigma=sigma,
        kappa=kappa,
        lam=lam,
        points=int(n.size),
        rmse=float(np.sqrt(np.mean(residual**2))),
        max_relative_error=float(np.max(np.abs(residual / x))),
        r_squared=r_squared,
        kappa_identified=kappa_identified,
    )
