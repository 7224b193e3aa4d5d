"""`rightsizer demo --quick` end to end: real cgroup-capped tasks, HAProxy, Locust, SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from rightsizer.rundir import RunDir

pytestmark = [pytest.mark.slow, pytest.mark.cgroups, pytest.mark.haproxy, pytest.mark.locust]


def _ours(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.timeout(660)  # the subprocess has 600 s; the suite's default is 300
def test_the_quick_demo_answers_every_question(tmp_path: Path) -> None:
    env = {**os.environ, "RIGHTSIZER_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run(
        [sys.executable, "-m", "rightsizer", "demo", "--quick", "--out", str(tmp_path / "runs")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    [directory] = (tmp_path / "runs").iterdir()
    answer = json.loads((directory / "answer.json").read_text())
    # Every question of the seed has a measured answer.
    for key in ("users_per_task", "knee_users", "cpu_at_slo", "recommended_threshold",
                "tasks_needed", "throughput_ratio", "limiting_part"):  # fmt: skip
        assert answer[key] is not None, key
    assert answer["alarm_returned_to_ok"] is True
    assert answer["knee_users"] > 0 and answer["users_per_task"] > 0
    assert answer["tasks_needed"] >= 1
    assert answer["throughput_ratio"] > 1  # four tasks carried more than one
    # The printed answer is the stored one.
    assert "The answer" in done.stdout
    assert f"{answer['users_per_task']:.0f}" in done.stdout
    # The threshold is read off the 1-task run's CPU curve and checked by replay at 60 s.
    assert answer["threshold_basis"] == "curve" and answer["threshold_period_s"] == 60
    assert answer["alarm_users"] < answer["users_per_task"]
    assert any("at the production period (60 s" in note for note in answer["notes"])
    # Two runs, each with its report; the comparison beside them.
    demo = json.loads((directory / "demo.json").read_text())
    runs = [Path(p["run_dir"]) for p in demo["phases"]]
    assert [p["tasks"] for p in demo["phases"]] == [1, 4]
    for run in runs:
        path = run if run.is_absolute() else tmp_path / run
        rundir = RunDir.open(path)
        assert rundir.report_path.stat().st_size > 10_000
        assert len(rundir.steps()) >= 2
        manifest = rundir.manifest()
        assert manifest["target"]["capped"] is True
        assert manifest["search"] is not None
    assert (directory / "compare.html").stat().st_size > 10_000
    # The 4-task run started at a load the 1-task run ran: the comparison has that step.
    first, second = (
        {s["users"] for s in RunDir.open(run if run.is_absolute() else tmp_path / run).steps()}
        for run in runs
    )
    assert first & second
    assert 'id="differences"' in (directory / "compare.html").read_text()
    # Nothing of the demo is left running.
    assert _ours(os.getpid()) == []
