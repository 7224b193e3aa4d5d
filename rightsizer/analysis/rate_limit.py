"""The limit of an open-model run (`--arrival-rate`) in iterations a second, by the one rule.

    found = rate_limit(run)        # None for a closed-model run
    found.per_task                 # 180: whole iterations a second one task holds
    found.text                     # "this task holds 180 iterations/s at p95 < 1 s ..."

The steps are judged by rightsizer.analysis.limit's one rule on their rates
(`limit_of_rates`): a step's load is its intended rate and its p95 is the one corrected for
coordinated omission, from each request's intended start (the raw p95, from when a request
was really sent, hides the queue an open load builds; steps.json `arrival`). The figure is the
rule's estimate within the bracket (`estimate_users`: the knee, or where the SLO broke,
interpolated), divided by the task count, rounded down. When the step that set the limit was
generator-bound (rightsizer.analysis.generator_limit), the last good rate stays, as a lower
bound. Without a task count (a `--host` target) the figure is for the whole target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rightsizer.analysis.generator_limit import generator_limit
from rightsizer.analysis.limit import estimate_users, interval_text, limit_of_rates
from rightsizer.analysis.recorded_run import RecordedRun
from rightsizer.slo import Slo


@dataclass(frozen=True)
class RateLimit:
    """Iterations a second at the limit: `rate` for the whole target (None: no step met the
    SLO), `per_task` (None without a task count), the bracket `low`..`high` (whole target),
    and `bound`: why the figure is only a lower bound (None: the limit was reached)."""

    slo: Slo
    rate: float | None
    per_task: int | None
    low: int | None
    high: int | None
    tasks: int | None
    bound: str | None

    @property
    def text(self) -> str:
        """The answer on rates, in one sentence."""
        slo = f"p95 < {_seconds(self.slo.p95_ms)} (corrected: from each request's intended start)"
        bracket = f"the limit lies at {interval_text(self.low, self.high)} iterations/s"
        if self.rate is None:
            return f"no rate met {slo}; {bracket}" + (
                f" ({self.bound})" if self.bound is not None else ""
            )
        figure = math.floor(self.rate) if self.per_task is None else self.per_task
        who = "the target holds" if self.tasks is None else "this task holds"
        if self.tasks is not None and self.tasks > 1:
            who = f"each of {self.tasks} tasks holds"
        least = "at least " if self.bound is not None else ""
        sentence = f"{who} {least}{figure} iterations/s at {slo}; {bracket}"
        return sentence + (f" ({self.bound})" if self.bound is not None else "")


def rate_limit(run: RecordedRun) -> RateLimit | None:
    """The run's limit on rates (module doc); None for a closed-model run."""
    if not any(step.arrival is not None for step in run.steps):
        return None
    limit = limit_of_rates(run.steps, run.slo)
    bound = None
    if limit.reached and generator_limit(run.steps, limit).refuses:
        bound = "the load generator was saturated at the first rate past it, not the target"
    elif not limit.reached:
        bound = "no rate broke the SLO or passed the knee: a higher rate would find the limit"
    rate = float(limit.low) if bound is not None and limit.low is not None else None
    if bound is None:
        rate = estimate_users(limit).users
    tasks = run.tasks
    per_task = None if rate is None or not tasks else math.floor(rate / tasks)
    return RateLimit(run.slo, rate, per_task, limit.low, limit.high, tasks, bound)


def _seconds(ms: float) -> str:
    """1000 -> "1 s", 250 -> "250 ms"."""
    return f"{ms / 1000:g} s" if ms >= 1000 else f"{ms:g} ms"
