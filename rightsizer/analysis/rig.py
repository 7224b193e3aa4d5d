"""Was the machine the limit? The rig's own limits, per step, before scaling figures are fitted.

Tasks, HAProxy and the load generator share one machine. A step measured the machine rather
than the service when, in its steady window, either

1. together they needed more than its cores: the tasks' caps (tasks x vCPU, what they may use)
   plus HAProxy's and the generator's measured CPU exceed the machine's cores;
2. the machine was busy (>= MACHINE_BUSY_PCT of all cores, whoever used them) while the tasks
   stayed below their cap (service CPU < TASK_BELOW_CAP_PCT of the reservation): they waited
   for a core, not for their quota;
3. a task's threads waited for a core >= CORE_WAIT_PCT of the time in intervals in which it
   was not throttled (CPUCoreWait, from its threads' run-queue delay).

The figures come from the run's samplers (rightsizer.metrics.machine_sampler, the generator's
CPU from the load); a run without them (older, or `--host`) is not judged (`measured` False).

    rig = check_rig(run)
    rig.bound_steps, rig.note()      # "the machine was the limit at 400, 600 users: ..."
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rightsizer.analysis.recorded_run import RecordedRun
from rightsizer.analysis.time_series import Series
from rightsizer.errors import UsageError
from rightsizer.metrics.machine_sampler import CORE_WAIT, LB_CPU, MACHINE_CORES, MACHINE_CPU
from rightsizer.metrics.store import MetricStore
from rightsizer.rundir import RunDir
from rightsizer.stepsfile import Step

MACHINE_BUSY_PCT = 90.0
TASK_BELOW_CAP_PCT = 90.0
CORE_WAIT_PCT = 10.0


@dataclass(frozen=True)
class RigStep:
    """One step's verdict: `reasons` is empty when the machine was not the limit."""

    users: int
    index: int
    reasons: tuple[str, ...] = ()

    @property
    def bound(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True)
class RigFigures:
    """The machine's series of one run (empty when not recorded)."""

    cores: float | None = None
    machine_cpu: Series = field(default_factory=Series)
    lb_cpu: Series = field(default_factory=Series)
    core_wait: tuple[Series, ...] = ()


@dataclass(frozen=True)
class RigCheck:
    """Every step's verdict; `measured` False when the run recorded no machine figures."""

    steps: tuple[RigStep, ...]
    measured: bool

    @property
    def bound_steps(self) -> tuple[RigStep, ...]:
        return tuple(s for s in self.steps if s.bound)

    def bound_at(self, step: Step) -> bool:
        return any(s.index == step.index and s.bound for s in self.steps)

    def note(self, label: str = "") -> str | None:
        """One sentence for the answer when the machine was the limit somewhere; else None."""
        bound = self.bound_steps
        if not bound:
            return None
        users = ", ".join(str(s.users) for s in bound)
        where = f"{label}: " if label else ""
        return (
            f"{where}this machine, not the service, was the limit at {users} users "
            f"({bound[-1].reasons[0]}); figures there describe the rig"
        )


def check_rig(run: RecordedRun, figures: RigFigures | None = None) -> RigCheck:
    """Judge each step of `run` (`figures`: the machine's series, read from the run's
    metrics.db when not given)."""
    figures = figures if figures is not None else read_figures(run)
    if figures.cores is None:
        return RigCheck(tuple(RigStep(s.users, s.index) for s in run.steps), measured=False)
    caps = (run.target.tasks or 0) * (run.target.cpu or 0.0)
    return RigCheck(tuple(_judge(s, caps, figures) for s in run.steps), measured=True)


def _judge(step: Step, caps: float, figures: RigFigures) -> RigStep:
    window = step.window
    if window is None or figures.cores is None:
        return RigStep(step.users, step.index)
    reasons = []
    lb = (figures.lb_cpu.window(*window).mean() or 0.0) / 100
    generator = (step.generator_cpu or 0.0) / 100
    need = caps + lb + generator
    if need > figures.cores:
        reasons.append(
            f"tasks' caps {caps:.2f} + HAProxy {lb:.2f} + generator {generator:.2f} = "
            f"{need:.2f} cores of {figures.cores:.0f}"
        )
    machine = figures.machine_cpu.window(*window).mean()
    service = step.cpu_utilization
    busy = machine is not None and machine >= MACHINE_BUSY_PCT
    if busy and service is not None and service < TASK_BELOW_CAP_PCT:
        reasons.append(
            f"the machine's CPU at {machine:.0f}% while tasks used {service:.0f}% of their cap"
        )
    waits = [w for s in figures.core_wait if (w := s.window(*window).mean()) is not None]
    if waits and max(waits) >= CORE_WAIT_PCT:
        # Summed over a task's threads, so it may pass 100%: say it as seconds per second.
        reasons.append(
            f"a task's threads waited {max(waits) / 100:.2f} s a second for a core, unthrottled"
        )
    return RigStep(step.users, step.index, tuple(reasons))


def read_figures(run: RecordedRun) -> RigFigures:
    """The machine's series from the run's metrics.db; empty when absent."""
    if run.path is None:
        return RigFigures()
    try:
        path = RunDir.open(run.path).metrics_path
    except UsageError:
        return RigFigures()  # no longer a run directory: nothing to judge by
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return RigFigures()
    return _figures_of(path, stamp)


@functools.lru_cache(maxsize=8)
def _figures_of(path: Path, stamp: int) -> RigFigures:
    """`read_figures` of one metrics.db as it was at `stamp` (its mtime): the answer, the
    bottleneck rule and the demo's conclusion each judge the same run, and read it once."""
    with MetricStore(path, readonly=True) as store:

        def series(name: str) -> Iterable[Series]:
            return [Series.of(store.samples(k)) for k in store.keys(name=name)]

        cores = [v for s in series(MACHINE_CORES) for v in s.values]
        return RigFigures(
            cores=max(cores) if cores else None,
            machine_cpu=next(iter(series(MACHINE_CPU)), Series()),
            lb_cpu=next(iter(series(LB_CPU)), Series()),
            core_wait=tuple(series(CORE_WAIT)),
        )


def peak_bound(run: RecordedRun, check: RigCheck) -> bool:
    """`run`'s highest throughput may be the machine's: the machine was the limit at that step,
    or already at a step with fewer users (the load then grew on a saturated machine, whose
    share of each step's CPU only a quiet step would tell). A scaling law fitted to that peak
    would describe the rig."""
    rated = [s for s in run.steps if s.rps is not None]
    if not rated:
        return False
    peak = max(rated, key=lambda s: s.rps or 0.0)
    return check.bound_at(peak) or any(check.bound_at(s) for s in run.steps if s.users < peak.users)


def rig_notes(runs: Iterable[RecordedRun | None]) -> tuple[list[str], bool]:
    """The answer's notes on the rig for `runs`, and whether a peak was the machine's (then
    no USL is fitted)."""
    notes, bound = [], False
    for run in runs:
        if run is None:
            continue
        check = check_rig(run)
        if note := check.note(run.label):
            notes.append(note)
        bound = bound or peak_bound(run, check)
    return notes, bound
