"""`rightsizer run --host`: end to end in a subprocess against a real HTTP server.

Steps are 3 s and users few, so each run takes about 10 s.
"""

from __future__ import annotations

import csv
import json
import math
import signal
import sqlite3
from pathlib import Path
from typing import Any

import psutil
import pytest

from rightsizer.alarms import history
from rightsizer.alarms.outcome import alarm_outcome
from rightsizer.alarms.sources import load_definition_file
from rightsizer.alarms.timeline import evaluate_series
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, MetricStore
from tests.load.conftest import Finished, Target, signalled_run

pytestmark = [pytest.mark.slow, pytest.mark.locust]
POST = "/index.php?action=save"

SLOW_LOCUSTFILE = """
from locust import HttpUser, constant, task


class Slow(HttpUser):
    wait_time = constant(0)

    @task
    def slow(self):
        self.client.get("/slow?ms=700", name="slow")
"""


def locust_total(run_dir: Path) -> int:
    with (run_dir / "locust_stats.csv").open() as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    return int(rows["Aggregated"]["Request Count"])


def successful_posts(steps: list[dict[str, Any]]) -> int:
    return sum(s["requests"][POST]["count"] - s["requests"][POST]["failures"] for s in steps)


def check_run_directory(finished: Finished) -> None:
    """What every finished run directory holds, and how its parts agree."""
    run_dir = finished.run_dir()
    steps, manifest = finished.steps(), finished.manifest()
    total = sum(step["requests_total"] for step in steps)
    assert total == manifest["requests_recorded"] > 0
    assert locust_total(run_dir) == total  # Locust's own count of the same requests
    for key in ("users", "step_time", "warmup", "load_start", "load_end", "interrupted"):
        assert key in manifest
    assert manifest["versions"]["locust"] and manifest["versions"]["python"]
    assert manifest["load_start"] <= steps[0]["start"] < manifest["load_end"]
    for step in steps:
        assert step["start"] <= step["steady_start"] < step["end"]
        if step["p99_ms"] is not None:
            assert step["p50_ms"] <= step["p95_ms"] <= step["p99_ms"] <= step["max_ms"]
    with MetricStore(run_dir / "metrics.db", readonly=True) as store:
        counts = store.samples(MetricKey.of(names.CLIENT_REQUEST_COUNT))
        latencies = store.samples(MetricKey.of(names.CLIENT_RESPONSE_TIME))
        users = store.samples(MetricKey.of(names.CLIENT_USERS))
        assert sum(v for _, v in counts) == total
        assert len(latencies) == total
        assert max(v for _, v in users) == max(manifest["users"])
        assert store.samples(MetricKey.of(names.GENERATOR_CPU))


def test_two_steps_on_the_uploader_routes(run_cli: Any, target: Target) -> None:
    finished = run_cli(
        "--host", target.url, "--users", "2,4", "--step-time", "3", "--cooldown", "1"
    )
    assert finished.returncode == 0, finished.stderr
    steps = finished.steps()
    assert [s["users"] for s in steps] == [2, 4]
    assert successful_posts(steps) == target.counts.saves > 0
    assert sum(s["failures"] for s in steps) == 0
    check_run_directory(finished)
    manifest = finished.manifest()
    assert manifest["interrupted"] is False and manifest["stop_reason"] == "completed"
    assert manifest["target"] == {"kind": "host", "url": target.url}
    assert manifest["cooldown"]["end"] - manifest["cooldown"]["start"] >= 0.9
    assert "run directory:" in finished.stdout


def test_requests_in_flight_at_the_end_finish_and_count(
    run_cli: Any, target: Target, tmp_path: Path
) -> None:
    locustfile = tmp_path / "slow_locustfile.py"
    locustfile.write_text(SLOW_LOCUSTFILE)
    finished = run_cli(
        "-f", str(locustfile), "--host", target.url, "--users", "2", "--step-time", "3",
        "--cooldown", "0",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    (step,) = finished.steps()
    # Every request the server answered was recorded, those finished after the stop included.
    assert step["requests_total"] == target.counts.slow
    assert step["failures"] == 0
    manifest = finished.manifest()
    assert manifest["drain_end"] > manifest["load_end"]  # users finished their last request
    assert step["max_ms"] >= 700
    check_run_directory(finished)


HANGING_LOCUSTFILE = SLOW_LOCUSTFILE.replace("ms=700", "ms=30000")


def test_a_slow_target_cannot_hold_the_drain(run_cli: Any, target: Target, tmp_path: Path) -> None:
    """Requests that would take 30 s are cut after --drain-timeout, and counted as cut."""
    locustfile = tmp_path / "hanging_locustfile.py"
    locustfile.write_text(HANGING_LOCUSTFILE)
    finished = run_cli(
        "-f", str(locustfile), "--host", target.url, "--users", "2", "--step-time", "2",
        "--cooldown", "0", "--drain-timeout", "1",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    manifest = finished.manifest()
    assert manifest["drain_forced"] is True
    assert manifest["drain_cut"] == 2  # both users were inside a request
    assert target.counts.slow == 0  # none had been answered
    assert manifest["drain_end"] - manifest["load_end"] < 25  # far less than the 30 s requests
    assert "2 request(s) in flight cut after 1 s" in finished.stdout + finished.stderr


def test_the_first_line_says_how_long_the_run_takes(run_cli: Any, target: Target) -> None:
    finished = run_cli(
        "--host", target.url, "--users", "1,2", "--step-time", "2", "--cooldown", "3"
    )
    assert finished.returncode == 0, finished.stderr
    first = finished.stderr.strip().splitlines()[0]  # progress goes to stderr
    assert first.startswith("this run: 2 steps x 2 s = 4 s of load"), first
    assert "3 s of cooldown: about 7 s" in first, first
    answer = json.loads((finished.run_dir() / "answer.json").read_text())
    assert answer["users_per_task"] is None  # a --host run: per task is not known
    assert f"answer: {finished.run_dir() / 'answer.json'}" in finished.stdout + finished.stderr


def test_two_local_workers(run_cli: Any, target: Target) -> None:
    finished = run_cli(
        "--host", target.url, "--users", "2,4", "--step-time", "3", "--cooldown", "0",
        "--workers", "2",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    steps = finished.steps()
    assert successful_posts(steps) == target.counts.saves > 0
    check_run_directory(finished)
    report = finished.manifest()["worker_report"]
    assert report["local"] == 2 and report["drained"] == 2 and report["foreign"] == []
    for pid in report["pids"]:
        assert not psutil.pid_exists(pid)
    logs = sorted(p.name for p in finished.run_dir().glob("worker-*.log"))
    assert logs == ["worker-1.log", "worker-2.log"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_ends_gracefully_and_writes_the_run(
    tmp_path: Path, target: Target, signum: int
) -> None:
    finished = signalled_run(
        tmp_path, "--host", target.url, "--users", "3", "--step-time", "60",
        ready=lambda out: target.counts.saves >= 2, signum=signum, poll=0.2,
    )  # fmt: skip
    assert finished.returncode == 130, finished.stderr
    manifest = finished.manifest()
    assert manifest["interrupted"] is True and manifest["stop_reason"] == "interrupted"
    (step,) = finished.steps()
    assert step["end"] - step["start"] < 50
    assert successful_posts([step]) == target.counts.saves
    check_run_directory(finished)


def test_a_signal_as_the_load_is_set_up_ends_the_run(tmp_path: Path, target: Target) -> None:
    """The signal lands between the run directory's first write and the load's own handlers
    (or just after them): either way the run ends at once, written, with exit 130."""
    finished = signalled_run(
        tmp_path, "--host", target.url, "--users", "2", "--step-time", "60",
        ready=lambda out: any(out.glob("*/manifest.json")), signum=signal.SIGTERM, poll=0.002,
    )  # fmt: skip
    assert finished.returncode == 130, finished.stderr
    assert "Traceback" not in finished.stderr
    assert finished.manifest()["interrupted"] is True


def test_the_run_directory_store_is_sqlite_with_wal(run_cli: Any, target: Target) -> None:
    finished = run_cli("--host", target.url, "--users", "1", "--step-time", "2", "--cooldown", "0")
    assert finished.returncode == 0, finished.stderr
    with sqlite3.connect(finished.run_dir() / "metrics.db") as db:
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"
    step = finished.steps()[0]
    assert math.isclose(step["end"] - step["start"], 2.0, abs_tol=1.2)


STOP_ALARM = """{
  "AlarmName": "users-present", "Namespace": "rightsizer", "MetricName": "ClientUsers",
  "Statistic": "Maximum", "Period": 10, "EvaluationPeriods": 1, "Threshold": 0,
  "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": ["stop-run"]
}"""


def test_an_alarm_with_stop_run_ends_the_load_early(
    run_cli: Any, target: Target, tmp_path: Path
) -> None:
    alarm = tmp_path / "stop.json"
    alarm.write_text(STOP_ALARM)
    finished = run_cli(
        "--host", target.url, "--users", "2", "--step-time", "60", "--cooldown", "0",
        "--alarm", str(alarm),
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    manifest = finished.manifest()
    assert manifest["stop_reason"] == "alarm users-present"
    assert manifest["interrupted"] is False  # an alarm's stop-run is no Ctrl-C
    assert [t["to"] for t in manifest["alarm_transitions"]] == ["ALARM"]
    assert manifest["load_end"] - manifest["load_start"] < 30
    assert "the run ended early: alarm users-present" in finished.stderr
    assert "alarm users-present: INSUFFICIENT_DATA -> ALARM" in finished.stderr
    check_run_directory(finished)
    # No users are sampled before the load starts: a 0 read then made the first period OK
    # whenever a boundary fell between that read and the next one (the old flake).
    with MetricStore(finished.run_dir() / "metrics.db", readonly=True) as store:
        users = store.samples(MetricKey.of(names.CLIENT_USERS))
    assert users and min(t for t, _ in users) >= manifest["load_start"]


ALARMS = """[
  {"AlarmName": "whole-period", "Namespace": "rightsizer", "MetricName": "ClientRequestCount",
   "Statistic": "SampleCount", "Period": 10, "EvaluationPeriods": 1, "Threshold": 10,
   "ComparisonOperator": "GreaterThanOrEqualToThreshold"},
  {"AlarmName": "requests-flowing", "Namespace": "rightsizer", "MetricName": "ClientRequestCount",
   "Statistic": "Sum", "Period": 10, "EvaluationPeriods": 1, "Threshold": 0,
   "ComparisonOperator": "GreaterThanThreshold"}
]"""


def test_live_client_alarms_agree_with_replay_and_the_cooldown_shows_the_way_back(
    run_cli: Any, target: Target, tmp_path: Path
) -> None:
    """`whole-period` is ALARM only on a period all of whose seconds are in the store (one
    ClientRequestCount sample a second): live must wait for the runner's watermark to agree
    with a replay. Without --cooldown the run cools down until `requests-flowing` has been
    evaluated on a period after the load, so it shows the way back to OK."""
    alarms = tmp_path / "alarms.json"
    alarms.write_text(ALARMS)
    finished = run_cli(
        "--host", target.url, "--users", "2", "--step-time", "8", "--alarm", str(alarms)
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert "cooling down at least until" in finished.stderr
    manifest = finished.manifest()
    drain_end, cooldown_end = manifest["drain_end"], manifest["cooldown"]["end"]
    first_after = (math.ceil((drain_end + 10) / 10)) * 10
    assert cooldown_end >= first_after + 0.3
    db = finished.run_dir() / "metrics.db"
    flowing = history.read_history(db, "requests-flowing")
    assert [i.new_state for i in flowing][-1] == "OK"
    outcome = alarm_outcome(flowing, manifest["load_end"])
    assert outcome.first_alarm is not None
    assert outcome.back_to_ok_at is not None and outcome.back_to_ok_at >= drain_end + 10

    whole = next(a for a in load_definition_file(alarms) if a.name == "whole-period")
    with MetricStore(db, readonly=True) as store:
        samples = store.samples(MetricKey.of(names.CLIENT_REQUEST_COUNT))
        users = store.samples(MetricKey.of(names.CLIENT_USERS))
    last = math.floor(cooldown_end / 10) * 10  # live evaluated at least up to here
    offline = evaluate_series(whole, samples, end=last).transitions
    live = [i for i in history.read_history(db, "whole-period") if i.timestamp <= last]
    assert [(i.timestamp, i.new_state) for i in live] == [
        (t.time, t.new_state.value) for t in offline
    ]
    assert "ALARM" in [i.new_state for i in live]  # a whole period was seen live
    # The runner ticks half a second past each whole second.
    phases = sorted(t % 1.0 for t, _ in users)
    assert 0.5 <= phases[len(phases) // 2] < 0.6
