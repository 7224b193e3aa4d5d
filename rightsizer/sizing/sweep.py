"""`rightsizer size`'s runs: the limit search at each size, one `rightsizer run --users auto`
child a size (as the demo runs its phases), then each run's figures.

    plan = SweepPlan(sizes=parse_sizes("0.25/512,0.5/1024", Platform.FARGATE), out=Path("runs"))
    result = run_sweep(plan, console)
    result.measurements, result.directory

Everything lands in `<out>/<YYYYmmdd-HHMMSS>-size/`: one run directory a size (each with its
report.html unless --no-report) and sizes.json.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from rightsizer.demo.phase import PhaseResult, add_flags, run_command, run_phase
from rightsizer.errors import UsageError
from rightsizer.fleet.spec import worker_count
from rightsizer.rundir import RunDir
from rightsizer.sizing.measurement import SizeMeasurement, measure_run
from rightsizer.sizing.task_size import TaskSize
from rightsizer.slo import Slo

# What the load generator (Locust) and HAProxy need of this machine's cores while a task runs.
GENERATOR_SHARE = 0.5


@dataclass(frozen=True)
class SweepPlan:
    """The runs to make: `sizes`, each searched with these step settings; `flags`: settings
    flags the user gave (key, value) for every run (task_cmd, db, ...)."""

    sizes: tuple[TaskSize, ...]
    out: Path
    quick: bool = False
    slo: Slo = field(default_factory=Slo)
    step_time: float | None = None
    max_steps: int | None = None
    search_from: int | None = None
    locustfile: Path | None = None
    report: bool = True
    flags: tuple[tuple[str, Any], ...] = ()

    @property
    def seconds_per_step(self) -> float:
        return self.step_time or (7.0 if self.quick else 15.0)

    @property
    def steps(self) -> int:
        return self.max_steps or (6 if self.quick else 9)

    @property
    def task_cmd(self) -> str | None:
        return next((str(v) for k, v in self.flags if k == "task_cmd"), None)

    def workers(self, size: TaskSize) -> int:
        """Uploader processes in a task of `size`; a --task-cmd runs its own (counted as 1)."""
        return 1 if self.task_cmd else worker_count(size.cpu)


@dataclass(frozen=True)
class SweepResult:
    directory: Path
    phases: tuple[PhaseResult, ...]
    measurements: tuple[SizeMeasurement, ...]
    wall_seconds: float

    @property
    def interrupted(self) -> bool:
        return any(p.interrupted for p in self.phases)


def machine_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def check_fits(sizes: tuple[TaskSize, ...], cores: int) -> None:
    """UsageError for the first size this machine cannot give a task, after the generator's
    share: a larger cap would be measured as this machine's limit, not the size's."""
    room = cores - GENERATOR_SHARE
    for size in sizes:
        if size.cpu > room:
            raise UsageError(
                f"--sizes: {size}: this machine has {cores} cores and the load generator and "
                f"HAProxy need about {GENERATOR_SHARE:g} of one; measure at most {room:g} vCPU "
                "here (or run the sizes on a larger machine)"
            )


def size_command(
    plan: SweepPlan, size: TaskSize, out: Path, config_file: Path | None = None
) -> list[str]:
    """The `rightsizer run` command line for one size: one task behind HAProxy, searched."""
    command = run_command(config_file, [
        "--users", "auto",
        "--tasks", "1",
        "--cpu", f"{size.cpu:g}",
        "--memory", str(size.memory_mb),
        "--port", "0",
        "--step-time", f"{plan.seconds_per_step:g}",
        "--max-steps", str(plan.steps),
        "--slo-p95-ms", f"{plan.slo.p95_ms:g}",
        "--slo-failures", f"{plan.slo.failure_pct:g}",
        "--out", str(out),
        "--label", f"size-{size.cpu:g}-{size.memory_mb}",
        "--report" if plan.report else "--no-report",
    ])  # fmt: skip
    if plan.locustfile is None:
        command.append("--reset")
    else:
        command += ["--locustfile", str(plan.locustfile)]
    if plan.search_from is not None:
        command += ["--search-from", str(plan.search_from)]
    if plan.quick:
        command += ["--warmup", "0.3", "--cooldown", "2"]
    add_flags(command, plan.flags, own=("tasks", "cpu", "memory"), replace=("port",))
    return command


def run_sweep(plan: SweepPlan, console: Console, config_file: Path | None = None) -> SweepResult:
    """Search each size in turn (smallest first); an interrupted or failed run ends the sweep
    with the sizes measured so far."""
    check_fits(plan.sizes, machine_cores())
    started = time.monotonic()
    directory = RunDir.create(plan.out, "size").path
    phases: list[PhaseResult] = []
    measurements: list[SizeMeasurement] = []
    for size in plan.sizes:
        workers = plan.workers(size)
        console.rule(
            f"{size.cpu:g} vCPU, {size.memory_mb} MiB"
            + (f" ({workers} uploader processes)" if workers > 1 else "")
        )
        phase = run_phase(size_command(plan, size, directory, config_file), 1)
        phases.append(phase)
        if phase.run_dir is not None:
            measurements.append(measure_run(phase.run_dir, size, workers))
        if phase.run_dir is None or phase.interrupted or phase.exit_code != 0:
            break
    return SweepResult(directory, tuple(phases), tuple(measurements), time.monotonic() - started)
