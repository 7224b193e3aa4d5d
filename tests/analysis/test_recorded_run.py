from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from rightsizer.alarms.history import read_history
from rightsizer.analysis.recorded_run import load_run
from rightsizer.analysis.target import TargetKind
from rightsizer.errors import UsageError
from rightsizer.metrics import names
from rightsizer.metrics.statistics import Statistic
from rightsizer.metrics.store import MetricKey, MetricStore, Sample, aggregate
from tests.analysis.helpers import fixture_run


def manifest_of(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((path / "manifest.json").read_text())
    return document


def rewrite_manifest(path: Path, **changes: Any) -> None:
    (path / "manifest.json").write_text(json.dumps({**manifest_of(path), **changes}))


@pytest.mark.parametrize("name", ["run-1-task", "run-4-tasks"])
def test_a_recorded_run_loads_steps_series_and_alarms(tmp_path: Path, name: str) -> None:
    path = fixture_run(tmp_path, name)
    run = load_run(path)
    manifest = manifest_of(path)
    steps = json.loads((path / "steps.json").read_text())["steps"]
    assert [s.users for s in run.steps] == [s["users"] for s in steps] == manifest["users"]
    # The task count is the fleet's own report, and it sampled exactly that many tasks.
    assert run.target.kind is TargetKind.FLEET and run.target.capped is True
    assert run.tasks == manifest["target"]["tasks"] == len(run.task_cpu)
    assert (run.slo.p95_ms, run.slo.failure_pct) == tuple(manifest["slo"].values())
    assert run.load_start == manifest["load_start"] and run.origin == run.load_start
    assert run.latency and run.rps and run.users and run.service_cpu and run.service_memory
    history = read_history(path / "metrics.db")
    assert sum(len(a.history) for a in run.alarms) == len(history) > 0
    assert run.missing == ()
    assert run.end >= (run.load_end or 0)


def test_the_service_series_is_the_per_second_average_of_the_service_samples(
    tmp_path: Path,
) -> None:
    path = fixture_run(tmp_path, "run-4-tasks")
    run = load_run(path)
    with MetricStore(path / "metrics.db", readonly=True) as store:
        raw = store.samples(MetricKey.of(names.CPU_UTILIZATION, ServiceName="uploader"))
    middle = run.service_cpu.times[len(run.service_cpu) // 2]
    second = [v for t, v in raw if middle - 0.5 <= t < middle + 0.5]
    assert len(second) == run.tasks
    (value,) = run.service_cpu.window(middle - 0.5, middle + 0.5).values
    assert value == pytest.approx(sum(second) / len(second))


def test_the_alarm_view_is_what_the_alarm_evaluated(tmp_path: Path) -> None:
    # Every datapoint the live alarm wrote into its history is in the view, with its value.
    path = fixture_run(tmp_path, "run-1-task")
    (alarm,) = load_run(path).alarms
    view = {p.timestamp: p.value for p in alarm.view}
    evaluated = [
        point for item in alarm.history for point in item.reason_data.get("evaluatedDatapoints", [])
    ]
    assert evaluated
    for point in evaluated:
        assert any(v == pytest.approx(point["value"], rel=1e-9) for v in view.values())


def test_the_alarm_view_weighs_samples_not_seconds(tmp_path: Path) -> None:
    # Two tasks for 5 s, then one: the alarm's Average is over all 15 samples of the period.
    path = fixture_run(tmp_path, "run-1-task")
    (path / "metrics.db").unlink()
    service = MetricKey.of(names.CPU_UTILIZATION, ServiceName="uploader")
    start = 1_800_000_000.0
    samples = [Sample(service, start + s + 0.5, v) for s in range(5) for v in (10.0, 90.0)]
    samples += [Sample(service, start + s + 0.5, 90.0) for s in range(5, 10)]
    with MetricStore(path / "metrics.db") as store:
        store.put_many(samples)
    from rightsizer.alarms.history import save_definitions
    from rightsizer.alarms.sources import seed_alarm

    save_definitions(path / "metrics.db", [("seed", seed_alarm(period=10).to_json())])
    (alarm,) = load_run(path).alarms
    assert [(p.timestamp, p.sample_count) for p in alarm.view] == [(start, 15)]
    assert alarm.view[0].value == pytest.approx((5 * 100 + 5 * 90) / 15)  # not (50 + 90) / 2
    average = Statistic.parse("Average")
    assert list(aggregate([(s.timestamp, s.value) for s in samples], 10, average)) == list(
        alarm.view
    )


def test_the_settings_are_not_taken_for_the_target(tmp_path: Path) -> None:
    # A --host run's settings hold the defaults (1 task, 0.25 vCPU, 512 MiB) all the same.
    path = fixture_run(tmp_path, "run-4-tasks")
    settings = {**manifest_of(path)["settings"], "tasks": 1, "cpu": 0.25, "memory": 512}
    rewrite_manifest(path, settings=settings)
    assert load_run(path).tasks == 4  # the fleet's own word
    rewrite_manifest(path, target={"kind": "host", "url": "http://127.0.0.1:9"})
    host = load_run(path)
    assert host.tasks is None and host.target.summary == "external target, tasks unknown"
    assert host.target.cpu is None and host.target.memory is None


def test_a_run_stopped_early_loads_with_what_is_missing_listed(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    (path / "steps.json").unlink()
    (path / "metrics.db").unlink()
    manifest = manifest_of(path)
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


@pytest.mark.parametrize(
    ("document", "users"),
    [
        ({"steps": {"users": 10}}, []),
        ({"steps": "10,60"}, []),
        ([{"users": 10}], []),
        # Only the row whose users is a number stays; its wrongly typed rps is dropped.
        ({"steps": [{"users": "ten", "p95_ms": "fast"}, 7, None, {"users": 20, "rps": [1]}]}, [20]),
    ],
)
def test_steps_json_with_wrong_types_is_reported_not_raised(
    tmp_path: Path, document: Any, users: list[int]
) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    (path / "steps.json").write_text(json.dumps(document))
    run = load_run(path)
    assert [s.users for s in run.steps] == users
    assert any("steps.json" in m for m in run.missing)
    assert all(s.rps is None and s.p95_ms is None for s in run.steps)


def test_a_folder_without_manifest_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a run directory"):
        load_run(tmp_path)


@pytest.mark.parametrize("text", ["[1, 2]", '"run"', "null", "42"])
def test_a_manifest_that_is_json_but_not_an_object_is_a_usage_error(
    tmp_path: Path, text: str
) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    (path / "manifest.json").write_text(text)
    with pytest.raises(UsageError, match=r"manifest\.json: expected a JSON object"):
        load_run(path)


def test_wrong_types_in_the_manifest_are_not_facts(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    rewrite_manifest(
        path, label={"x": 1}, slo=[250], target="fleet", load_start="soon", search="auto"
    )
    run = load_run(path)
    assert run.label == path.name and run.slo.p95_ms == 1000.0
    assert run.target.kind is TargetKind.UNKNOWN and run.tasks == 1  # the tasks it sampled
    assert run.load_start is None and not run.searched


def test_a_path_with_hash_and_question_mark_reads_this_run(tmp_path: Path) -> None:
    path = fixture_run(tmp_path / "runs#1?x=y", "run-1-task")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    run = load_run(path)
    assert run.latency and run.alarms and run.missing == ()
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing created


def test_a_text_file_as_metrics_db_is_a_one_line_usage_error(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    (path / "metrics.db").write_text("these are not the metrics you are looking for\n" * 100)
    with pytest.raises(UsageError, match="not a readable rightsizer metric store") as caught:
        load_run(path)
    assert str(path / "metrics.db") in str(caught.value) and "\n" not in str(caught.value)


def test_a_truncated_metrics_db_is_a_usage_error(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    data = (path / "metrics.db").read_bytes()
    (path / "metrics.db").write_bytes(data[: len(data) // 2])
    with pytest.raises(UsageError, match=r"metrics\.db"):
        load_run(path)


def test_a_foreign_sqlite_file_as_metrics_db_is_a_usage_error(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    (path / "metrics.db").unlink()
    with sqlite3.connect(path / "metrics.db") as db:
        db.execute("CREATE TABLE alarm_definitions (alarm_name TEXT, definition TEXT)")
        db.execute("INSERT INTO alarm_definitions VALUES ('x', 'not json')")
    db.close()
    with pytest.raises(UsageError, match="no series and samples tables"):
        load_run(path)
    with sqlite3.connect(path / "metrics.db") as db:  # left as it was
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert tables == {"alarm_definitions"}


def test_an_interrupted_run_says_so(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    manifest = manifest_of(path)
    stopped = {**manifest, "interrupted": True, "stop_reason": "interrupted"}
    (path / "manifest.json").write_text(json.dumps(stopped))
    assert any("interrupted (Ctrl-C)" in m for m in load_run(path).missing)
    # Ctrl-C before the load began: no stop_reason written.
    before = {k: v for k, v in stopped.items() if k != "stop_reason"}
    (path / "manifest.json").write_text(json.dumps(before))
    assert any("interrupted (Ctrl-C)" in m for m in load_run(path).missing)


@pytest.mark.parametrize("interrupted", [True, False])  # True: as versions before StopReason
def test_a_run_an_alarm_stopped_names_the_alarm_not_ctrl_c(
    tmp_path: Path, interrupted: bool
) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    manifest = manifest_of(path)
    stopped = {**manifest, "interrupted": interrupted, "stop_reason": "alarm cpu-high"}
    (path / "manifest.json").write_text(json.dumps(stopped))
    missing = load_run(path).missing
    assert any("cpu-high stopped the run" in m for m in missing)
    assert not any("Ctrl-C" in m for m in missing)
    (path / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    assert any("did not end cleanly" in m for m in load_run(path).missing)
