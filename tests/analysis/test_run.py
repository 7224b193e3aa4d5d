from __future__ import annotations

import json
from pathlib import Path

import pytest

from rightsizer.alarms.history import read_history
from rightsizer.analysis.run import load_run
from rightsizer.errors import UsageError
from tests.analysis.helpers import fixture_run


def test_a_recorded_run_loads_steps_series_and_alarms(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-4-tasks")
    run = load_run(path)
    manifest = json.loads((path / "manifest.json").read_text())
    steps = json.loads((path / "steps.json").read_text())["steps"]
    assert run.label == manifest["label"]
    assert [s.users for s in run.steps] == [s["users"] for s in steps]
    assert run.tasks == manifest["tasks"] == len(run.task_cpu)
    assert run.load_start == manifest["load_start"] and run.origin == run.load_start
    assert run.latency and run.rps and run.users and run.service_cpu and run.service_memory
    # The service series is the per-second average across the tasks.
    second = run.service_cpu.times[5]
    tasks = [s.window(second - 0.5, second + 0.5).values[0] for s in run.task_cpu.values()]
    assert run.service_cpu.values[5] == pytest.approx(sum(tasks) / len(tasks))
    history = read_history(path / "metrics.db")
    assert [len(a.history) for a in run.alarms] == [len(history)]
    assert run.alarms[0].threshold == 20.0 and run.alarms[0].period == 10.0
    assert run.missing == ()
    assert run.end >= (run.load_end or 0)


def test_settings_nested_under_settings_are_found(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    manifest = json.loads((path / "manifest.json").read_text())
    nested = {k: v for k, v in manifest.items() if k not in ("tasks", "cpu", "memory")}
    nested["settings"] = {"tasks": 3, "cpu": 0.5, "memory": 256}
    (path / "manifest.json").write_text(json.dumps(nested))
    run = load_run(path)
    assert (run.tasks, run.number("cpu"), run.number("memory")) == (3, 0.5, 256)


def test_a_run_stopped_early_loads_with_what_is_missing_listed(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    (path / "steps.json").unlink()
    (path / "metrics.db").unlink()
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["load_end"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    run = load_run(path)
    assert run.steps == () and not run.latency and not run.alarms
    assert any("steps.json" in m for m in run.missing)
    assert any("metrics.db: missing" in m for m in run.missing)


def test_broken_steps_json_is_reported_not_raised(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    (path / "steps.json").write_text("{not json")
    run = load_run(path)
    assert run.steps == ()
    assert any("not valid JSON" in m for m in run.missing)


def test_a_folder_without_manifest_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a run directory"):
        load_run(tmp_path)


def test_an_interrupted_run_says_so(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    manifest = json.loads((path / "manifest.json").read_text())
    (path / "manifest.json").write_text(json.dumps({**manifest, "interrupted": True}))
    assert any("interrupted" in m for m in load_run(path).missing)
    (path / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    assert any("did not end cleanly" in m for m in load_run(path).missing)
