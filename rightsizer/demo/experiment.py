"""The seed's whole experiment, unattended: search 1 task's limit, then 4 tasks', then answer.

    result = run_experiment(DemoPlan(out=Path("runs")), console)

Everything lands in `<out>/<YYYYmmdd-HHMMSS>-demo/`: the two run directories (each with its
report.html), compare.html, answer.json and demo.json (phases and wall time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from rightsizer.analysis.limit import limit_of_steps
from rightsizer.demo.phase import PhaseResult, fault_phase_command, phase_command, run_phase
from rightsizer.demo.plan import FAULT_LOAD, DemoPlan
from rightsizer.errors import UsageError
from rightsizer.fleet.haproxy import HAPROXY
from rightsizer.rundir import RunDir, write_json
from rightsizer.stepsfile import read_steps

if TYPE_CHECKING:
    from rightsizer.demo.conclusion import Conclusion


@dataclass(frozen=True)
class DemoResult:
    directory: Path
    phases: tuple[PhaseResult, ...]
    wall_seconds: float
    conclusion: Conclusion | None

    @property
    def interrupted(self) -> bool:
        return any(p.interrupted for p in self.phases)


def preflight() -> None:
    """What the demo needs that is not a Python package."""
    if not HAPROXY.exists():
        raise UsageError(
            "haproxy: not installed; the demo puts HAProxy in front of the tasks "
            "(Debian/Ubuntu: apt-get install haproxy)"
        )


def second_start(plan: DemoPlan, first_run: Path) -> int | None:
    """Where the second fleet's search starts: at a load the first fleet ran, so both runs
    share a step and the comparison sets them side by side (the seed's run #4 against run #5,
    the same users on 1 task and on 4). The first fleet's first bad step by the limit rule
    (the load it could not carry), else its last good step; None when the first run judged
    no step. The search climbs from there towards the second fleet's own limit."""
    try:
        limit = limit_of_steps(read_steps(RunDir.open(first_run)), plan.slo)
    except UsageError:
        return None
    step = limit.first_bad or limit.last_good
    return step.users if step is not None else None


def run_experiment(plan: DemoPlan, console: Console, config_file: Path | None = None) -> DemoResult:
    """Run both phases and conclude; an interrupted phase ends the demo with what it has."""
    preflight()
    started = time.monotonic()
    directory = RunDir.create(plan.out, "demo").path
    alarm = plan.write_alarm(directory)
    phases: list[PhaseResult] = []
    start_from: int | None = None
    for tasks in plan.task_counts:
        fleet = f"{tasks} task{'s' if tasks > 1 else ''} ({plan.cpu:g} vCPU, {plan.memory} MiB)"
        console.rule(fleet)
        command = phase_command(
            plan, tasks, alarm, directory, search_from=start_from, config_file=config_file
        )
        phase = run_phase(command, tasks)
        phases.append(phase)
        if phase.run_dir is None or phase.interrupted or phase.exit_code not in (0,):
            break
        if tasks != plan.task_counts[-1]:
            start_from = second_start(plan, phase.run_dir)
    runs = [p.run_dir for p in phases if p.run_dir is not None]
    searched = len(phases) == len(plan.task_counts) and not any(
        p.interrupted or p.exit_code != 0 for p in phases
    )
    if plan.faults and searched:
        fault_phase = _fault_phase(
            plan, phases[-1], alarm, directory, console, config_file=config_file
        )
        if fault_phase is not None:
            phases.append(fault_phase)
    conclusion = None
    if runs:
        from rightsizer.demo.conclusion import conclude  # noqa: PLC0415  # matplotlib, scipy

        console.rule("the answer")
        faulted_run = phases[-1].run_dir if len(phases) > len(plan.task_counts) else None
        conclusion = conclude(
            plan, runs[0], runs[1] if len(runs) > 1 else None, directory, faulted_run
        )
        write_json(directory / "answer.json", conclusion.answer.to_json())
    wall = time.monotonic() - started
    faulted = plan.faults and len(phases) > len(plan.task_counts)
    write_json(
        directory / "demo.json",
        {
            "quick": plan.quick,
            "wall_seconds": round(wall, 1),
            "phases": [
                {"tasks": p.tasks, "run_dir": str(p.run_dir) if p.run_dir else None,
                 "exit_code": p.exit_code,
                 "faults": faulted and i == len(phases) - 1}
                for i, p in enumerate(phases)
            ],
        },
    )  # fmt: skip
    return DemoResult(directory, tuple(phases), wall, conclusion)


def fault_users(plan: DemoPlan, run_dir: Path) -> int | None:
    """FAULT_LOAD of the fleet's limit (its last good step's users), None without one."""
    try:
        limit = limit_of_steps(read_steps(RunDir.open(run_dir)), plan.slo)
    except UsageError:
        return None
    if limit.last_good is None:
        return None
    return max(1, round(FAULT_LOAD * limit.last_good.users))


def _fault_phase(
    plan: DemoPlan,
    searched: PhaseResult,
    alarm: Path,
    directory: Path,
    console: Console,
    *,
    config_file: Path | None,
) -> PhaseResult | None:
    """`demo --faults`: the searched fleet at FAULT_LOAD of its limit, its faults done."""
    users = fault_users(plan, searched.run_dir) if searched.run_dir is not None else None
    if users is None:
        console.print("no limit measured on the second fleet: the fault phase is left out")
        return None
    console.rule(f"{searched.tasks} tasks at {users} users, with faults")
    command = fault_phase_command(
        plan, searched.tasks, users, alarm, directory, config_file=config_file
    )
    return run_phase(command, searched.tasks)
