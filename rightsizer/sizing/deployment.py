"""The figures to deploy, derived from the recommended size's measurements; `--emit ecs` and
`--emit kubernetes` write them in their platform's words.

A task is planned at (1 - headroom) of its users at the SLO (U*): the scaling target holds
each task at that load, so the SLO still holds with the headroom above it. The CPU there, read
off the size's measured CPU-users curve, is the target-tracking value (ECS) and the CPU
request (Kubernetes). The alarm is the demo's rule's threshold on the same curve.

    plan = deployment_of(document)        # UsageError when no size was recommended
    plan.target_cpu_pct, plan.max_tasks, plan.memory_mb
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rightsizer.errors import UsageError
from rightsizer.sizing.measurement import SizeMeasurement
from rightsizer.sizing.sizes_document import SizesDocument
from rightsizer.sizing.task_size import TaskSize


@dataclass(frozen=True)
class Deployment:
    """`size` as measured; `planned_users` per task = floor(U* x (1 - headroom));
    `target_cpu_pct`: CPU % of the reservation measured at that load (floored);
    `max_tasks`: tasks for the target users at that load; `memory_mb`: peak memory x
    (1 + headroom) rounded up, never below the peak seen; `alarm_threshold` at
    `alarm_users` (None: the rule gave none)."""

    size: TaskSize
    measured: SizeMeasurement
    users_per_task: int
    headroom: float
    planned_users: int
    target_cpu_pct: float
    max_tasks: int
    target_users: int
    peak_memory_mb: float
    memory_mb: int
    alarm_threshold: float | None
    alarm_users: int | None

    @property
    def cpu_request_millicores(self) -> int:
        """The CPU a task uses at its planned load, in millicores, rounded up."""
        return math.ceil(self.target_cpu_pct / 100 * self.size.cpu * 1000 - 1e-9)

    @property
    def users_text(self) -> str:
        """`223 users`, or `at least 223 users` when the SLO held at every step."""
        bound = "" if self.measured.limit_reached else "at least "
        return f"{bound}{self.users_per_task} users"

    @property
    def run(self) -> str:
        return self.measured.run_dir or "the size's run"


def deployment_of(document: SizesDocument) -> Deployment:
    """The deployment of the recommended size; UsageError when there is none to derive."""
    row = document.recommended_row
    if row is None or row.cost is None or not row.measured.users_per_task:
        raise UsageError(f"nothing to emit: {document.why_none or 'no size was recommended'}")
    measured = row.measured
    users = measured.users_per_task
    assert users is not None  # checked above
    planned = max(1, math.floor(users * (1 - document.headroom)))
    cpu = measured.cpu_at(planned)
    if cpu is None:
        raise UsageError(
            f"nothing to emit: {measured.size}'s run has no CPU measured at {planned} users"
        )
    peak = measured.peak_memory_mb
    if peak is None:
        raise UsageError(f"nothing to emit: {measured.size}'s run has no memory measured")
    return Deployment(
        size=measured.size,
        measured=measured,
        users_per_task=users,
        headroom=document.headroom,
        planned_users=planned,
        target_cpu_pct=float(math.floor(cpu)),
        max_tasks=row.cost.tasks,
        target_users=document.target_users,
        peak_memory_mb=peak,
        memory_mb=max(math.ceil(peak * (1 + document.headroom)), math.ceil(peak)),
        alarm_threshold=measured.alarm_threshold,
        alarm_users=measured.alarm_users,
    )
