"""One phase of the demo: `rightsizer run --users auto` on a fleet of N tasks, as a child process.

A child keeps Locust (which patches the whole process with gevent) out of the demo's own
process, and each phase gets a fresh Locust, as a user running the commands by hand would.
Its live progress goes straight to the terminal; its last stdout line names the run directory.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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
    command = [sys.executable, "-m", "rightsizer"]
    if config_file is not None:
        command += ["--config", str(config_file)]
    command += [
        "run",
        "--users", "auto",
        "--tasks", str(tasks),
        "--cpu", f"{plan.cpu:g}",
        "--memory", str(plan.memory),
        "--port", "0",
        "--lb", "roundrobin",
        "--step-time", f"{plan.step_time:g}",
        "--warmup", f"{plan.warmup:g}",
        "--max-steps", str(plan.max_steps(tasks)),
        "--slo-p95-ms", f"{plan.slo.p95_ms:g}",
        "--slo-failures", f"{plan.slo.failure_pct:g}",
        "--alarm", str(alarm),
        "--reset",
        "--no-report",
        "--out", str(out),
        "--label", f"{tasks}-task" + ("s" if tasks > 1 else ""),
    ]  # fmt: skip
    for key, value in plan.flags:
        if key not in ("cpu", "memory", "port", "lb"):  # those are set above, from the plan
            command += [flag_name(key), f"{value:g}" if isinstance(value, float) else str(value)]
        elif key in ("port", "lb"):
            command[command.index(flag_name(key)) + 1] = str(value)
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
    plan's faults; the same fleet settings as the searches."""
    command = phase_command(plan, tasks, alarm, out, config_file=config_file)
    # Fixed steps, and a report of its own: its fault table.
    search_flags = {"--search-from": 2, "--max-steps": 2, "--cooldown": 2, "--no-report": 1}
    kept: list[str] = []
    skip = 0
    for index, arg in enumerate(command):
        if skip:
            skip -= 1
            continue
        if arg in search_flags:
            skip = search_flags[arg] - 1
            continue
        if arg == "--users":
            kept += ["--users", ",".join([str(users)] * FAULT_STEPS)]
            skip = 1
            continue
        if arg == "--label":
            kept += ["--label", f"{command[index + 1]}-faults"]
            skip = 1
            continue
        kept.append(arg)
    kept += ["--cooldown", "0"]
    for fault in plan.fault_flags():
        kept += ["--fault", fault]
    return kept


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
