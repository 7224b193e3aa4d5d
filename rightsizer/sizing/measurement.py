"""What one size's limit search measured: users per task at the SLO, the knee, CPU and memory.

Read from the run directory `rightsizer run --users auto` wrote for one task of that size,
through the same rules the demo answers with (rightsizer.analysis.answer, .bottleneck).

    measured = measure_run(Path("runs/...-size-0.25-512"), TaskSize(0.25, 512), workers=1)
    measured.users_per_task, measured.cpu_at_limit, measured.peak_memory_mb
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from rightsizer.analysis.answer import build_answer
from rightsizer.analysis.bottleneck import name_bottleneck
from rightsizer.analysis.recorded_run import RecordedRun, load_run
from rightsizer.analysis.slo_limit import value_at_users
from rightsizer.analysis.threshold import (
    GROWTH_PCT,
    REACTION_S,
    CpuCurve,
    CurvePoint,
    curve_threshold,
)
from rightsizer.sizing.task_size import TaskSize


@dataclass(frozen=True)
class SizeMeasurement:
    """One size's figures, per task. `users_per_task`: users at the SLO (None: not measured,
    0: the SLO broke at the lowest step); `limit_reached` False: a lower bound; `knee_users`:
    where throughput stopped growing; `cpu_at_limit`: CPU % of the reservation at
    `users_per_task`; `memory_at_limit_mb` there, and `peak_memory_mb` the most any task held
    during the run (MemoryUtilization x the limit: page cache counted as ECS counts it);
    `bottleneck`: what limited the run (rightsizer.analysis.bottleneck), with its evidence;
    `workers`: uploader processes in the task (1 for a --task-cmd); `run_dir`: the run;
    `cpu_curve`: (users per task, CPU %) on the run's CPU-users curve (made non-decreasing,
    rightsizer.analysis.threshold); `alarm_threshold`: the CPU alarm threshold the demo's rule
    reads off that curve at `alarm_users` = U* - g x T (default reaction and growth)."""

    size: TaskSize
    users_per_task: int | None
    limit_reached: bool
    knee_users: int | None
    cpu_at_limit: float | None
    peak_memory_mb: float | None
    memory_at_limit_mb: float | None
    bottleneck: str
    bottleneck_evidence: tuple[str, ...]
    workers: int
    run_dir: str | None
    notes: tuple[str, ...] = ()
    cpu_curve: tuple[tuple[float, float], ...] = ()
    alarm_threshold: float | None = None
    alarm_users: int | None = None

    def cpu_at(self, users: float) -> float | None:
        """CPU % of the reservation at `users` per task on `cpu_curve` (straight to 0 below
        the lowest step); None past the highest step or without a curve."""
        if not self.cpu_curve or users < 0 or users > self.cpu_curve[-1][0]:
            return None
        return CpuCurve(tuple(CurvePoint(u, c, c) for u, c in self.cpu_curve)).cpu_at(users)

    def to_json(self) -> dict[str, Any]:
        raw = {f.name: getattr(self, f.name) for f in fields(self)}
        raw["size"] = self.size.to_json()
        raw["bottleneck_evidence"] = list(self.bottleneck_evidence)
        raw["notes"] = list(self.notes)
        raw["cpu_curve"] = [list(point) for point in self.cpu_curve]
        return raw

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SizeMeasurement:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        values["size"] = TaskSize.from_json(raw["size"])
        values["bottleneck_evidence"] = tuple(raw.get("bottleneck_evidence") or ())
        values["notes"] = tuple(raw.get("notes") or ())
        values["cpu_curve"] = tuple((float(u), float(c)) for u, c in raw.get("cpu_curve") or ())
        return cls(**values)


def _mb(percent: float | None, size: TaskSize) -> float | None:
    return None if percent is None else round(percent / 100 * size.memory_mb, 1)


def peak_memory_pct(run: RecordedRun) -> float | None:
    """The highest MemoryUtilization any task reached during the run."""
    values = [v for series in run.task_memory.values() for v in series.values]
    values = values or list(run.service_memory.values)
    return max(values) if values else None


def measure(run: RecordedRun, size: TaskSize, workers: int) -> SizeMeasurement:
    """The figures of one size's run (a fleet of one task, or any count: per task)."""
    answer = build_answer(run)
    tasks = run.tasks or 1
    users = answer.users_per_task
    memory_at = value_at_users(run.steps, users * tasks, "memory_utilization") if users else None
    bottleneck = name_bottleneck(run)
    curve = CpuCurve.from_steps(run.steps, tasks)
    alarm = curve_threshold(curve, users, REACTION_S, GROWTH_PCT) if curve and users else None
    return SizeMeasurement(
        size=size,
        users_per_task=users,
        limit_reached=answer.bound_reason is None and users is not None,
        knee_users=answer.knee_users,
        cpu_at_limit=answer.cpu_at_slo,
        peak_memory_mb=_mb(peak_memory_pct(run), size),
        memory_at_limit_mb=_mb(memory_at, size),
        bottleneck=bottleneck.part.value,
        bottleneck_evidence=bottleneck.evidence,
        workers=workers,
        run_dir=str(run.path) if run.path else None,
        notes=answer.notes,
        cpu_curve=tuple((p.users, p.fitted) for p in curve.points) if curve else (),
        alarm_threshold=alarm.threshold if alarm else None,
        alarm_users=alarm.alarm_users if alarm else None,
    )


def measure_run(path: Path, size: TaskSize, workers: int) -> SizeMeasurement:
    """`measure` of the run directory at `path`."""
    return measure(load_run(path), size, workers)
