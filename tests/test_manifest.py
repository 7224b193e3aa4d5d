"""manifest.json as one typed document: the writer's keys in their order, and every older run
directory (tests/report/fixtures hold real ones) read without an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rightsizer.errors import UsageError
from rightsizer.manifest import FINISHED, Cooldown, LoadFigures, Manifest, read_manifest
from rightsizer.rundir import RunDir, write_json
from rightsizer.slo import Slo
from rightsizer.stop import INTERRUPTED, StopReason

FIXTURES = Path(__file__).parent / "report" / "fixtures"
OLD_RUNS = sorted(FIXTURES.glob("*/manifest.json"))
# Keys written at every start of a run, in the order manifest.json has them.
BASE_KEYS = [
    "created", "command", "label", "versions", "settings", "locustfile", "bundled_scenario",
    "scenario_env", "users", "search", "slo", "step_time", "warmup", "spawn_rate",
    "cooldown_seconds", "workers", "host", "web", "status", "interrupted", "alarms",
]  # fmt: skip
LOAD_KEYS = ["load_start", "load_end", "drain_end", "drain_forced", "drain_cut", "cooldown"]
COUNT_KEYS = [
    "steps_started", "requests_recorded", "generator_bound_steps", "worker_report",
    "locust_errors_logged",
]  # fmt: skip


@pytest.mark.parametrize("path", OLD_RUNS, ids=lambda p: p.parent.name)
def test_an_older_run_reads_and_writes_back_the_same_keys(path: Path) -> None:
    raw = json.loads(path.read_text())
    manifest = Manifest.from_json(raw)
    assert manifest.load_start == raw["load_start"] and manifest.load_end == raw["load_end"]
    assert manifest.slo == Slo(raw["slo"]["p95_ms"], raw["slo"]["failure_pct"])
    assert manifest.stop is not None and manifest.stop.reason is StopReason.COMPLETED
    assert manifest.target == raw["target"] and manifest.status == FINISHED
    written = manifest.to_json()
    # What the older version wrote comes back unchanged, in its order; the keys added since
    # (the web UI's options, the drain's cut requests) come back empty.
    assert {k: v for k, v in written.items() if k in raw} == raw
    assert [k for k in written if k in raw] == list(raw)
    assert {k: written[k] for k in written if k not in raw} == {"web": None, "drain_cut": None}


def test_a_run_writes_its_keys_in_order_as_it_learns_them() -> None:
    started = Manifest(label="demo", users=(1, 3), slo=Slo(250.0, 1.0), alarms=("cpu",))
    assert list(started.to_json()) == BASE_KEYS
    assert started.to_json()["slo"] == {"p95_ms": 250.0, "failure_pct": 1.0}
    figures = LoadFigures(load_start=10.0, load_end=70.0, cooldown=Cooldown(71.0, 86.0))
    ended = Manifest(
        reset={"deleted_files": 0},
        target={"kind": "host", "url": "http://127.0.0.1:9"},
        alarm_states=(),
        alarm_transitions=(),
        load=figures,
        stop_reason="completed",
        status=FINISHED,
    )
    assert list(ended.to_json()) == [
        *BASE_KEYS, "reset", "target", "alarm_states", "alarm_transitions",
        *LOAD_KEYS, "stop_reason", *COUNT_KEYS,
    ]  # fmt: skip
    assert ended.to_json()["cooldown"] == {"start": 71.0, "end": 86.0, "cut_short": False}
    assert Manifest.from_json(ended.to_json()) == ended
    failed = Manifest(interrupted=True, stop_reason="interrupted", error="no fleet")
    assert list(failed.to_json()) == [*BASE_KEYS, "stop_reason", "error"]
    assert failed.stop == INTERRUPTED and failed.load_start is None


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"label": 3, "users": "1,3", "slo": [], "search": "auto", "load_start": "soon"},
        {"cooldown": None, "interrupted": "yes", "target": ["fleet"], "alarms": [1, "cpu"]},
    ],
)
def test_missing_or_mistyped_keys_are_left_out_not_errors(raw: dict[str, Any]) -> None:
    manifest = Manifest.from_json(raw)
    assert manifest.label is None and manifest.users == () and manifest.slo == Slo()
    assert not manifest.searched and manifest.load_start is None
    assert manifest.interrupted is False and manifest.target is None
    assert manifest.alarms in ((), ("cpu",))


def test_a_still_running_run_names_no_end_and_a_search_is_seen(tmp_path: Path) -> None:
    write_json(tmp_path / "manifest.json", {"status": "running", "search": {"max_steps": 9}})
    manifest = read_manifest(RunDir.open(tmp_path))
    assert manifest.stop is None and manifest.searched and manifest.load is None
    (tmp_path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(UsageError, match="JSON object"):
        read_manifest(RunDir.open(tmp_path))
