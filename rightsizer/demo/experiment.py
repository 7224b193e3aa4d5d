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

from rightsizer.analysis.slo_limit import users_at_slo
from rightsizer.demo.phase import PhaseResult, phase_command, run_phase
from rightsizer.demo.plan import DemoPlan
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
    the same users on 1 task and on 4). The lowest step that broke the SLO on the first fleet
    (the load it could not carry), else its highest step within the SLO; None when the first
    run judged no step. The search climbs from there towards the second fleet's own limit."""
    try:
        limit = users_at_slo(read_steps(RunDir.open(first_run)), plan.slo)
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
    conclusion = None
    runs = [p.run_dir for p in phases if p.run_dir is not None]
    if runs:
        from rightsizer.demo.conclusion import conclude  # noqa: PLC0415  # matplotlib, scipy

        console.rule("the answer")
        conclusion = conclude(plan, runs[0], runs[1] if len(runs) > 1 else None, directory)
        write_json(directory / "answer.json", conclusion.answer.to_json())
    wall = time.monotonic() - started
    write_json(
        directory / "demo.json",
        {
            "quick": plan.quick,
            "wall_seconds": round(wall, 1),
            "phases": [
                {"tasks": p.tasks, "run_dir": str(p.run_dir) if p.run_dir else None,
                 "exit_code": p.exit_code}
                for p in phases
            ],
        },
    )  # fmt: skip
    return DemoResult(directory, tuple(phases), wall, conclusion)
