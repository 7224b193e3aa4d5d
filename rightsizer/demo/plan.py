"""What `rightsizer demo` does, decided before anything starts: a frozen `DemoPlan`.

The seed's experiment, unattended: one smallest task (0.25 vCPU, 512 MiB) behind HAProxy, then
four, each searched for its limit (`rightsizer run --users auto`) under the seed's CPU alarm
(CPUUtilization > 20%, 1 of 1; a 10 s period so the demo stays short).

    plan = DemoPlan(out=Path("runs"), quick=True)
    plan.step_time, plan.max_steps(4)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rightsizer.alarms.sources import seed_alarm
from rightsizer.analysis.threshold import GROWTH_PCT, REACTION_S
from rightsizer.rundir import write_json
from rightsizer.slo import Slo

ALARM_PERIOD = 10
THRESHOLDS = (20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0)


FAULT_LOAD = 0.6  # `demo --faults`: the share of the second fleet's limit its third phase runs
FAULT_STEPS = 4


@dataclass(frozen=True)
class DemoPlan:
    """The demo's settings. `quick` trades resolution for time (coarser, same answers)."""

    out: Path
    quick: bool = False
    slo: Slo = field(default_factory=Slo)
    target_users: int = 2000
    headroom: float = 0.3
    task_counts: tuple[int, int] = (1, 4)
    cpu: float = 0.25
    memory: int = 512
    alarm_period: int = ALARM_PERIOD
    # The threshold rule's inputs (rightsizer.analysis.threshold): the user's reaction time T
    # in seconds and the load's growth g in % of the limit a minute.
    reaction_s: float = REACTION_S
    growth_pct: float = GROWTH_PCT
    # Settings flags the user gave (key, value), handed on to each phase's `rightsizer run`.
    flags: tuple[tuple[str, Any], ...] = ()
    # `demo --faults`: a third phase, the second fleet at FAULT_LOAD of its limit, with a task
    # killed and the database locked (rightsizer.fault), to show what users and alarms saw.
    faults: bool = False

    def fault_flags(self) -> tuple[str, ...]:
        """The third phase's `--fault`s, one step apart within its FAULT_STEPS steps: a task
        killed mid step 2, the database locked for half a step in step 3; step 4 shows the
        recovery."""
        t = self.step_time
        return (f"kill-task@{1.5 * t:g}s:1", f"db-outage@{2.25 * t:g}s+{0.5 * t:g}s")

    @property
    def step_time(self) -> float:
        """Seconds per step: enough for users who think 1-5 s to settle, and a steady window."""
        return 7.0 if self.quick else 15.0

    @property
    def warmup(self) -> float:
        return 0.3 if self.quick else 0.25

    def max_steps(self, tasks: int) -> int:
        """The first fleet searches from scratch; the second starts at a load the first ran
        (its first step, for the comparison), then climbs from there: one step more than it
        needs to search."""
        first = tasks == self.task_counts[0]
        if self.quick:
            return 6 if first else 4
        return 9 if first else 7

    def first_users(self, tasks: int) -> int | None:
        """Where the first fleet's search starts (None: the search's default, 10 a task);
        quick skips the lowest step."""
        return 60 * tasks if self.quick and tasks == self.task_counts[0] else None

    def cooldown(self, tasks: int) -> float | None:
        """Seconds without load after the search (None: until the alarm has seen a whole period
        without load, to show it return to OK). The first fleet shows that; in quick mode the
        second one does not wait for it."""
        return 2.0 if self.quick and tasks != self.task_counts[0] else None

    def write_alarm(self, directory: Path) -> Path:
        """The seed's alarm, at the demo's short period, as PutMetricAlarm JSON in `directory`."""
        path = directory / "seed-alarm.json"
        alarm = seed_alarm(self.alarm_period, actions=(), name="seed-cpu-high")
        write_json(path, alarm.to_json())
        return path
