"""The demo's plan and the command line of each phase."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.demo.experiment import second_start
from rightsizer.demo.phase import phase_command, run_phase
from rightsizer.demo.plan import DemoPlan
from rightsizer.rundir import RunDir, write_json
from rightsizer.slo import Slo


def test_the_seed_alarm_is_a_valid_put_metric_alarm_with_a_short_period(tmp_path: Path) -> None:
    plan = DemoPlan(out=tmp_path)
    alarm = AlarmDefinition.from_json(json.loads(plan.write_alarm(tmp_path).read_text()))
    assert (alarm.metric_name, alarm.threshold, alarm.period) == ("CPUUtilization", 20.0, 10)
    assert (alarm.evaluation_periods, alarm.datapoints_to_alarm) == (1, 1)


def test_quick_is_shorter_and_the_second_fleet_gets_fewer_steps(tmp_path: Path) -> None:
    full, quick = DemoPlan(out=tmp_path), DemoPlan(out=tmp_path, quick=True)
    assert quick.step_time < full.step_time
    assert quick.max_steps(1) < full.max_steps(1)
    assert quick.max_steps(4) < quick.max_steps(1)
    budget = quick.step_time * (quick.max_steps(1) + quick.max_steps(4))
    assert budget <= 75  # leaves room for start-up, cool-down and reports within 2 minutes


def test_phase_command_searches_on_a_capped_fleet(tmp_path: Path) -> None:
    plan = DemoPlan(out=tmp_path, slo=Slo(p95_ms=800, failure_pct=0.5))
    command = phase_command(plan, 4, tmp_path / "a.json", tmp_path, search_from=900)
    text = " ".join(command)
    assert command[:3] == [sys.executable, "-m", "rightsizer"]
    for part in ("run --users auto", "--tasks 4", "--cpu 0.25", "--memory 512", "--port 0",
                 "--search-from 900", "--slo-p95-ms 800", "--slo-failures 0.5", "--reset",
                 "--label 4-tasks"):  # fmt: skip
        assert part in text


def test_the_second_search_starts_at_a_step_the_first_fleet_ran(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path, "one")
    write_json(run.manifest_path, {"label": "one"})

    def record(measured: list[tuple[int, float]]) -> None:
        steps = [
            {"index": i, "users": u, "rps": u / 2, "p95_ms": p95, "fail_ratio": 0.0}
            for i, (u, p95) in enumerate(measured)
        ]
        write_json(run.steps_path, {"steps": steps})

    # A search: up to 600 (broke the 1 s SLO), then back to 450 (held), 520 (broke).
    record([(100, 20.0), (300, 40.0), (600, 2500.0), (450, 300.0), (520, 1400.0)])
    # The lowest step that broke it: the load one task could not carry, rerun on four.
    assert second_start(DemoPlan(out=tmp_path), run.path) == 520
    # Judged by the demo's own SLO: with 2 s, 520 held and 600 is the first to break.
    assert second_start(DemoPlan(out=tmp_path, slo=Slo(p95_ms=2000)), run.path) == 600
    # The SLO never broke: the highest step the first fleet ran.
    record([(100, 20.0), (300, 40.0), (250, 35.0)])
    assert second_start(DemoPlan(out=tmp_path), run.path) == 300
    record([])
    assert second_start(DemoPlan(out=tmp_path), run.path) is None


def test_a_phase_reads_the_run_directory_its_child_names(tmp_path: Path) -> None:
    script = f"print('steps ...'); print('run directory: {tmp_path}/x'); raise SystemExit(130)"
    result = run_phase([sys.executable, "-c", script], tasks=1)
    assert result.run_dir == tmp_path / "x"
    assert result.interrupted


def test_bad_demo_arguments_are_one_line_errors_before_anything_starts(tmp_path: Path) -> None:
    import subprocess

    for args, flag in (
        (["--target-users", "0"], "--target-users"),
        (["--headroom", "1.5"], "--headroom"),
        (["--slo-p95-ms", "-1"], "--slo-p95-ms"),
        (["--slo-failures", "0"], "--slo-failures"),
        (["--reaction-time", "0"], "--reaction-time"),
        (["--growth", "-5"], "--growth"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "rightsizer", "demo", "--out", str(tmp_path / "runs"), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"error: {flag}: ")
        assert done.stderr.count("\n") == 1
    assert not (tmp_path / "runs").exists()  # nothing was started or written
