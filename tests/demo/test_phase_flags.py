"""The settings flags given to `demo` reach each phase's `rightsizer run`."""

from __future__ import annotations

from pathlib import Path

from rightsizer.demo.phase import fault_phase_command, phase_command
from rightsizer.demo.plan import DemoPlan
from rightsizer.fault.fault import Fault, FaultKind, check_faults


def _option(command: list[str], flag: str) -> str:
    assert command.count(flag) == 1, command
    return command[command.index(flag) + 1]


def test_given_settings_reach_the_phase_and_override_the_plans_own(tmp_path: Path) -> None:
    plan = DemoPlan(
        out=tmp_path,
        cpu=0.5,
        memory=1024,
        flags=(("health_path", "/up"), ("port", 9000), ("sample_interval", 2.0), ("cpu", 0.5)),
    )
    command = phase_command(plan, 1, tmp_path / "alarm.json", tmp_path)
    assert _option(command, "--health-path") == "/up"
    assert _option(command, "--port") == "9000"  # the plan's own --port 0 gave way
    assert _option(command, "--sample-interval") == "2"
    assert _option(command, "--cpu") == "0.5" and _option(command, "--memory") == "1024"


def test_without_settings_the_phase_runs_the_seeds_fleet(tmp_path: Path) -> None:
    command = phase_command(DemoPlan(out=tmp_path), 4, tmp_path / "alarm.json", tmp_path)
    assert _option(command, "--cpu") == "0.25" and _option(command, "--memory") == "512"
    assert _option(command, "--port") == "0" and _option(command, "--tasks") == "4"
    assert "--health-path" not in command


def test_the_fault_phase_holds_a_load_with_faults_inside_its_steps(tmp_path: Path) -> None:
    plan = DemoPlan(out=tmp_path, quick=True, faults=True, flags=(("port", 9000),))
    command = fault_phase_command(plan, 4, 150, tmp_path / "alarm.json", tmp_path)
    assert _option(command, "--users") == "150,150,150,150"
    assert _option(command, "--tasks") == "4" and _option(command, "--port") == "9000"
    assert _option(command, "--cooldown") == "0"
    assert _option(command, "--label").endswith("-faults")
    for gone in ("--search-from", "--max-steps", "--no-report"):
        assert gone not in command
    faults = [command[i + 1] for i, arg in enumerate(command) if arg == "--fault"]
    parsed = [Fault.parse(text) for text in faults]
    assert {f.kind for f in parsed} == {FaultKind.KILL_TASK, FaultKind.DB_OUTAGE}
    load = 4 * float(_option(command, "--step-time"))
    assert all(f.start > 0 and f.end < load for f in parsed)  # inside the load, after its start
    check_faults(parsed, load_seconds=load, tasks=4, fleet=True)
