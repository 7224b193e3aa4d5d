"""Two runs step by step (steps matched by users), with bootstrap confidence intervals.

Each figure is computed from the raw per-second series of the step's steady window, and its
interval from a block bootstrap over seconds (rightsizer.analysis.bootstrap). A figure without
raw samples falls back to steps.json, without an interval. The RNG is seeded per (step,
run, figure), so a comparison is reproducible and does not depend on which steps exist.

Runs with different task counts also get each shared step per task (`StepComparison.per_task`):
users and RPS divided among each run's tasks, the seed's "same load, more tasks" in task terms.
CPU is per task already (the service average of the tasks' % of their reservation).

    comparison = compare_runs(one_task, four_tasks)
    step = comparison.step(20); step[Measure.P95].a.value, step[Measure.P95].b.value
    step.per_task.rps_a, step.per_task.rps_b   # RPS a task carried in each run (None: same tasks)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np

from rightsizer.analysis import bootstrap
from rightsizer.analysis.bootstrap import FloatArray, IntArray
from rightsizer.analysis.recorded_run import RecordedRun
from rightsizer.analysis.time_series import Series
from rightsizer.stepsfile import Step

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95


class Measure(Enum):
    """A compared figure; the value is the Step attribute that holds it."""

    RPS = "rps"
    P50 = "p50_ms"
    P95 = "p95_ms"
    P99 = "p99_ms"
    FAILURES = "failure_pct"
    CPU = "cpu_utilization"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def lower_is_better(self) -> bool:
        return self is not Measure.RPS


_LABELS = {
    Measure.RPS: "RPS",
    Measure.P50: "p50",
    Measure.P95: "p95",
    Measure.P99: "p99",
    Measure.FAILURES: "failures",
    Measure.CPU: "CPU per task",
}
_PERCENTILES = {Measure.P50: 50.0, Measure.P95: 95.0, Measure.P99: 99.0}


@dataclass(frozen=True)
class Estimate:
    """A figure and its confidence interval (None when not bootstrapped)."""

    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Difference:
    """One figure at one step: run A, run B, and B - A."""

    measure: Measure
    a: Estimate
    b: Estimate
    delta: Estimate

    @property
    def ratio(self) -> float | None:
        """B / A, None when A is zero or unknown."""
        if self.a.value is None or self.b.value is None or self.a.value == 0:
            return None
        return self.b.value / self.a.value

    @property
    def significant(self) -> bool | None:
        """True when the interval of B - A excludes 0; None without an interval."""
        if self.delta.low is None or self.delta.high is None:
            return None
        return self.delta.low > 0 or self.delta.high < 0


def divided(estimate: Estimate, tasks: int) -> Estimate:
    """A whole-fleet figure per task (its interval scales with it)."""

    def part(value: float | None) -> float | None:
        return None if value is None else value / tasks

    return Estimate(part(estimate.value), part(estimate.low), part(estimate.high))


@dataclass(frozen=True)
class PerTask:
    """One shared step divided among each run's tasks: users per task and RPS per task (with
    its interval) in A and in B."""

    users_a: float
    users_b: float
    rps_a: Estimate
    rps_b: Estimate

    @property
    def rps_ratio(self) -> float | None:
        """B's RPS per task over A's; None when A's is zero or unknown."""
        if self.rps_a.value is None or self.rps_b.value is None or self.rps_a.value == 0:
            return None
        return self.rps_b.value / self.rps_a.value


@dataclass(frozen=True)
class StepComparison:
    """One users count both runs ran; `per_task` when their task counts differ."""

    users: int
    differences: tuple[Difference, ...]
    per_task: PerTask | None = None

    def __getitem__(self, measure: Measure) -> Difference:
        return next(d for d in self.differences if d.measure is measure)


@dataclass(frozen=True)
class Comparison:
    """Steps both runs have (ascending users), and users only one of them ran."""

    a_label: str
    b_label: str
    steps: tuple[StepComparison, ...]
    only_a: tuple[int, ...]
    only_b: tuple[int, ...]
    confidence: float
    resamples: int
    seed: int
    tasks_a: int | None = None
    tasks_b: int | None = None

    @property
    def per_task(self) -> bool:
        """Both task counts are known and differ: the steps are also compared per task."""
        return None not in (self.tasks_a, self.tasks_b) and self.tasks_a != self.tasks_b

    def step(self, users: int) -> StepComparison | None:
        return next((s for s in self.steps if s.users == users), None)


def compare_runs(
    a: RecordedRun,
    b: RecordedRun,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
    measures: tuple[Measure, ...] = tuple(Measure),
) -> Comparison:
    """Compare `b` against `a` at every users count both ran."""
    steps_a, steps_b = _by_users(a.steps), _by_users(b.steps)
    common = sorted(set(steps_a) & set(steps_b))
    sent_a, sent_b = by_sent_time(a.latency), by_sent_time(b.latency)
    compared = []
    for users in common:
        sides = ((a, sent_a, steps_a[users]), (b, sent_b, steps_b[users]))
        draw_a, draw_b = (
            _draws(run, sent, step, measures, resamples=resamples, stream=(seed, users, side))
            for side, (run, sent, step) in enumerate(sides)
        )
        differences = tuple(_difference(m, draw_a[m], draw_b[m], confidence) for m in measures)
        compared.append(StepComparison(users, differences, _per_task(users, differences, a, b)))
    return Comparison(
        a.label,
        b.label,
        tuple(compared),
        tuple(sorted(set(steps_a) - set(steps_b))),
        tuple(sorted(set(steps_b) - set(steps_a))),
        confidence,
        resamples,
        seed,
        a.tasks,
        b.tasks,
    )


def _per_task(
    users: int, differences: tuple[Difference, ...], a: RecordedRun, b: RecordedRun
) -> PerTask | None:
    """The step per task when both runs' task counts are known and differ."""
    if a.tasks is None or b.tasks is None or a.tasks == b.tasks:
        return None
    rps = next((d for d in differences if d.measure is Measure.RPS), None)
    rps_a, rps_b = (rps.a, rps.b) if rps is not None else (Estimate(None), Estimate(None))
    return PerTask(
        users / a.tasks,
        users / b.tasks,
        divided(rps_a, a.tasks),
        divided(rps_b, b.tasks),
    )


def by_sent_time(latency: Series) -> Series:
    """Response times stamped when the request was sent (completion - response time): steps
    own the requests sent during them, as steps.json counts them."""
    values = np.asarray(latency.values, dtype=np.float64)
    sent = np.asarray(latency.times, dtype=np.float64) - values / 1000
    order = np.argsort(sent, kind="stable")
    return Series(tuple(sent[order].tolist()), tuple(values[order].tolist()))


def _by_users(steps: tuple[Step, ...]) -> dict[int, Step]:
    """The last step at each users count (a repeated step supersedes the earlier one)."""
    return {s.users: s for s in sorted(steps, key=lambda s: s.index) if s.users > 0}


# A figure: its value on all data, and its bootstrap estimates (None without raw samples).
_Draw = tuple[float | None, FloatArray | None]
# A weighted statistic (weights: resamples x seconds) and how many seconds it resamples.
_Statistic = tuple[Callable[[IntArray], FloatArray], int]


def _draws(
    run: RecordedRun,
    sent: Series,
    step: Step,
    measures: tuple[Measure, ...],
    *,
    resamples: int,
    stream: tuple[int, int, int],
) -> dict[Measure, _Draw]:
    """Every figure of one step of one run. The percentiles share one set of resamples (one
    pass over the sorted data); every other figure has its own RNG stream."""
    draws: dict[Measure, _Draw] = {m: (getattr(step, m.value), None) for m in measures}
    if step.window is None:
        return draws
    window = _Window(*step.window)
    latencies, seconds = window.cut(sent)
    wanted = [m for m in measures if m in _PERCENTILES]
    if wanted and latencies.size:
        ps = [_PERCENTILES[m] for m in wanted]
        everything = np.ones((1, window.seconds), dtype=np.int64)
        full = bootstrap.weighted_percentiles(latencies, seconds, ps, everything)[:, 0]
        rng = np.random.default_rng([*stream, 0])
        weights = bootstrap.second_weights(window.seconds, resamples, rng)
        estimates = bootstrap.weighted_percentiles(latencies, seconds, ps, weights)
        draws.update({m: (float(full[i]), estimates[i]) for i, m in enumerate(wanted)})
    for position, measure in enumerate(measures):
        found = None if measure in _PERCENTILES else _statistic(run, sent, window, measure)
        if found is not None:
            statistic, size = found
            value = float(statistic(np.ones((1, size), dtype=np.int64))[0])
            rng = np.random.default_rng([*stream, position + 1])
            estimates = statistic(bootstrap.second_weights(size, resamples, rng))
            draws[measure] = (value if math.isfinite(value) else draws[measure][0], estimates)
    return draws


@dataclass(frozen=True)
class _Window:
    """A step's steady window cut into whole seconds."""

    start: float
    end: float

    @property
    def seconds(self) -> int:
        return max(1, math.ceil(self.end - self.start))

    def cut(self, series: Series) -> tuple[FloatArray, IntArray]:
        """The window's values, and the second (0 .. seconds-1) each falls in."""
        part = series.window(self.start, self.end)
        second = np.floor(np.asarray(part.times, dtype=np.float64) - self.start)
        index = np.clip(second.astype(np.int64), 0, self.seconds - 1)
        return np.asarray(part.values, dtype=np.float64), index

    def per_second(self, series: Series) -> FloatArray:
        """Sum of the window's values in each second (0 where none)."""
        values, index = self.cut(series)
        return np.bincount(index, weights=values, minlength=self.seconds).astype(np.float64)

    def counts(self, series: Series) -> FloatArray:
        """How many samples fall in each second (requests, for one sample per request)."""
        index = self.cut(series)[1]
        return np.bincount(index, minlength=self.seconds).astype(np.float64)


def _statistic(
    run: RecordedRun, sent: Series, window: _Window, measure: Measure
) -> _Statistic | None:
    """The weighted statistic of a figure other than a percentile, as steps.json defines it:
    RPS over the requests sent in the window; failures per second as the generator counted."""
    if measure is Measure.RPS and sent.window(window.start, window.end):
        # Requests sent per second; scaled so the full-data value is count / window length.
        counts, scale = window.counts(sent), window.seconds / (window.end - window.start)
        return (lambda w: bootstrap.weighted_mean(counts, w) * scale), window.seconds
    if measure is Measure.FAILURES:
        return _failures(run, sent, window)
    values = window.cut(run.rps if measure is Measure.RPS else run.service_cpu)[0]
    if values.size == 0:
        return None
    return (lambda w: bootstrap.weighted_mean(values, w)), values.size


def _failures(run: RecordedRun, sent: Series, window: _Window) -> _Statistic | None:
    if not run.failures.window(window.start, window.end):
        return None
    failed = window.per_second(run.failures)
    total = window.per_second(run.requests) if run.requests else window.counts(sent)
    return (lambda w: bootstrap.weighted_ratio(failed, total, w, scale=100.0)), window.seconds


def _difference(measure: Measure, a: _Draw, b: _Draw, confidence: float) -> Difference:
    (value_a, draws_a), (value_b, draws_b) = a, b
    delta_value = value_b - value_a if value_a is not None and value_b is not None else None
    delta_ci = (
        bootstrap.interval(draws_b - draws_a, confidence)
        if draws_a is not None and draws_b is not None
        else None
    )
    return Difference(
        measure,
        _with_interval(value_a, draws_a, confidence),
        _with_interval(value_b, draws_b, confidence),
        Estimate(delta_value, *(delta_ci or (None, None))),
    )


def _with_interval(value: float | None, draws: FloatArray | None, confidence: float) -> Estimate:
    ci = bootstrap.interval(draws, confidence) if draws is not None else None
    return Estimate(value, *(ci or (None, None)))
