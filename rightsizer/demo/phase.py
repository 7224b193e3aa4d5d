"""One phase of the demo: `rightsizer run --users auto` on a fleet of N tasks, as a child process.

A child keeps Locust (which patches the whole process with gevent) out of the demo's own
process, and each phase gets a fresh Locust, as a user running the commands by hand would.
Its live progress goes straight to the terminal; its last stdout line names the run directory.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Container, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rightsizer.config import flag_name
from rightsizer.demo.plan import FAULT_STEPS, DemoPlan
from rightsizer.errors import EXIT_INTERRUPTED, RightsizerError

RUN_DIRECTORY = "run directory: "


@dataclass(frozen=True)
class PhaseResult:
    """Where the phase's run went and how the child ended."""

    tasks: int
    run_dir: Path | None
    exit_code: int

    @property
    def interrupted(self) -> bool:
        return self.exit_code == EXIT_INTERRUPTED


def run_command(config_file: Path | None, args: Sequence[str]) -> list[str]:
    """`rightsizer [--config FILE] run ARGS` as a child's command line (this interpreter)."""
    config = ["--config", str(config_file)] if config_file is not None else []
    return [sys.executable, "-m", "rightsizer", *config, "run", *args]


def add_flags(
    command: list[str],
    flags: Sequence[tuple[str, Any]],
    *,
    own: Container[str] = (),
    replace: Container[str] = (),
) -> None:
    """Hand the user's settings flags on to `command`: keys in `own` the caller set from its
    plan (left out); keys in `replace` overwrite the value `command` already gives them."""
    for key, value in flags:
        text = f"{value:g}" if isinstance(value, float) else str(value)
        if key in replace:
            command[command.index(flag_name(key)) + 1] = str(value)
        elif key not in own:
            command += [flag_name(key), text]


def _fleet_args(plan: DemoPlan, tasks: int, alarm: Path, out: Path, label: str) -> list[str]:
    """What every phase's run shares: the fleet, its steps' timing, the SLO and the alarm."""
    return [
        "--tasks", str(tasks),
        "--cpu", f"{plan.cpu:g}",
        "--memory", str(plan.memory),
        "--port", "0",
        "--lb", "roundrobin",
        "--step-time", f"{plan.step_time:g}",
        "--warmup", f"{plan.warmup:g}",
        "--slo-p95-ms", f"{plan.slo.p95_ms:g}",
        "--slo-failures", f"{plan.slo.failure_pct:g}",
        "--alarm", str(alarm),
        "--reset",
        "--out", str(out),
        "--label", label,
    ]  # fmt: skip


def _label(tasks: int) -> str:
    return f"{tasks}-task" + ("s" if tasks > 1 else "")


def phase_command(
    plan: DemoPlan,
    tasks: int,
    alarm: Path,
    out: Path,
    *,
    search_from: int | None = None,
    config_file: Path | None = None,
) -> list[str]:
    """The `rightsizer run` command line of one phase."""
    search = ["--users", "auto", "--max-steps", str(plan.max_steps(tasks)), "--no-report"]
    fleet = _fleet_args(plan, tasks, alarm, out, _label(tasks))
    command = run_command(config_file, [*search, *fleet])
    add_flags(command, plan.flags, own=("cpu", "memory"), replace=("port", "lb"))
    search_from = search_from or plan.first_users(tasks)
    if search_from is not None:
        command += ["--search-from", str(search_from)]
    cooldown = plan.cooldown(tasks)
    if cooldown is not None:
        command += ["--cooldown", f"{cooldown:g}"]
    return command


def fault_phase_command(
    plan: DemoPlan,
    tasks: int,
    users: int,
    alarm: Path,
    out: Path,
    *,
    config_file: Path | None = None,
) -> list[str]:
    """`demo --faults`' third phase: the fleet at `users` for FAULT_STEPS steps, with the
    plan's faults; the same fleet settings as the searches, and a report of its own (its
    fault table)."""
    steps = ["--users", ",".join([str(users)] * FAULT_STEPS), "--cooldown", "0"]
    fleet = _fleet_args(plan, tasks, alarm, out, f"{_label(tasks)}-faults")
    command = run_command(config_file, [*steps, *fleet])
    add_flags(command, plan.flags, own=("cpu", "memory"), replace=("port", "lb"))
    for fault in plan.fault_flags():
        command += ["--fault", fault]
    return command


def run_phase(command: list[str], tasks: int) -> PhaseResult:
    """Run one phase; its stdout is echoed, and the run directory read from it.

    Ctrl-C reaches the child too (same process group): it ends its load gracefully and writes
    its run directory, and this waits for that before it returns."""
    run_dir: Path | None = None
    try:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1)
    except OSError as exc:
        raise RightsizerError(f"cannot start `rightsizer run` ({exc.strerror})") from None
    assert child.stdout is not None
    with child:
        while True:
            try:
                for line in child.stdout:
                    sys.stdout.write(line)
                    if line.startswith(RUN_DIRECTORY):
                        run_dir = Path(line[len(RUN_DIRECTORY) :].strip())
                break
            except KeyboardInterrupt:
                continue  # the child got it too and is finishing; keep reading its output
        code = child.wait()
    sys.stdout.flush()
    return PhaseResult(tasks, run_dir, code)
