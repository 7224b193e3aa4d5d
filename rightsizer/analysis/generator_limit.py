"""When the load generator, not the target, set a run's limit; and how many generator processes
the run needed.

    found = generator_limit(run.steps, limit)
    found.refuses    # the step that set the limit was generator-bound: not the target's limit
    found.reason     # why, in words, for the answer's "a lower bound: ..."
    found.sizing     # how many generator processes the highest step needed, or None

The step that sets the limit is the first bad one (`Limit.first_bad`), or, when no step was
bad, the step with the most users. It is generator-bound when a generator process (the master,
a worker) was busy more than 85% of the time there (steps.json `generator_bound`). Its figures
then describe the generator: the answer says so and keeps the last good step as a lower bound.

The sizing: each generator process makes `rate` requests per CPU-second (the median over the
steps of requests per second over the CPU every generator process used in the step's steady
window, from `generator_cpu_by_process`, or the one process's `generator_cpu`); a process
should stay under 85% of a core. What the highest step asked for is its users times the
requests per user-second of the lowest step that was not generator-bound (a closed load: each
user asks at the pace it is answered when nothing queues; later steps can only ask less, so
this is an upper estimate). Processes needed = that demand / (rate x 0.85), rounded up.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from rightsizer.analysis.limit import Limit
from rightsizer.stepsfile import Step

BOUND_SHARE = 0.85  # of a core: the generator-bound line (rightsizer.load.step_stats)


def _generator_cores(step: Step) -> float | None:
    """Cores the generator's processes used together in the step (None: not measured)."""
    figures = [v for v in step.generator_cpu_by_process.values() if v is not None]
    if figures:
        return math.fsum(figures) / 100
    return step.generator_cpu / 100 if step.generator_cpu is not None else None


def requests_per_cpu_second(steps: Sequence[Step]) -> float | None:
    """The median over the steps of requests per generator CPU-second."""
    rates = []
    for step in steps:
        cores = _generator_cores(step)
        if step.rps and cores:
            rates.append(step.rps / cores)
    return statistics.median(rates) if rates else None


@dataclass(frozen=True)
class GeneratorLimit:
    """See the module docstring."""

    step: Step | None  # the step that set the limit
    refuses: bool
    rate: float | None  # requests per generator CPU-second
    demand: float | None  # requests per second the highest step asked for
    processes: int | None  # generator processes needed for it

    @property
    def reason(self) -> str | None:
        if not self.refuses or self.step is None:
            return None
        who = ", ".join(self.step.generator_bound_processes) or "its busiest process"
        return (
            f"the load generator was saturated at {self.step.users} users (over 85% of a core: "
            f"{who}), so the load, not the target, set this limit"
        )

    @property
    def sizing(self) -> str | None:
        if self.processes is None or self.rate is None or self.demand is None:
            return None
        return (
            f"the generator made {self.rate:,.0f} requests per CPU-second; the highest step "
            f"asked for about {self.demand:,.0f} requests/s, which needs {self.processes} "
            f"generator process(es) under 85% of a core each (--workers {self.processes}, or "
            f"`rightsizer worker --processes N` on other machines with --expect-workers)"
        )


def generator_limit(steps: Sequence[Step], limit: Limit) -> GeneratorLimit:
    """Whether the generator set `limit` on `steps`, and what the run needed (module doc)."""
    if not steps:
        return GeneratorLimit(None, False, None, None, None)
    if limit.first_bad is not None:
        index = limit.first_bad.index
        deciding = next((s for s in steps if s.index == index), None)
    else:
        deciding = max(steps, key=lambda s: (s.users, s.index))
    refuses = deciding is not None and deciding.generator_bound
    if not any(step.generator_bound for step in steps):
        return GeneratorLimit(deciding, refuses, None, None, None)
    rate = requests_per_cpu_second(steps)
    calm = sorted((s for s in steps if not s.generator_bound and s.rps), key=lambda s: s.users)
    paced = calm[0] if calm else min(steps, key=lambda s: s.users)
    top = max(steps, key=lambda s: s.users)
    if rate is None or not paced.rps or paced.users <= 0:
        return GeneratorLimit(deciding, refuses, rate, None, None)
    demand = top.users * paced.rps / paced.users
    processes = max(1, math.ceil(demand / (rate * BOUND_SHARE)))
    return GeneratorLimit(deciding, refuses, rate, demand, processes)
