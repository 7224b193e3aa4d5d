"""Load from other machines: `rightsizer run` as the master on one host, `rightsizer worker` on
two others, the target on a fourth, each host a network namespace of this machine (netns.py).

The oracle is the target itself: it counts every GET /hit it answers, and the test asks it over
the network afterwards. The workers start before the master (they keep asking until it
listens), and end when its run ends. Nothing may be left behind: no process inside the
namespaces but the target, nothing listening on the master's host, no namespace after the test.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.load.conftest import clean_env, rightsizer_command
from tests.load.netns import Lan, namespaces, sweep_stale
from tests.waiting import poll_until

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "netns_locustfile.py"
TARGET = HERE / "netns_target.py"
TARGET_PORT = 8080
MASTER_PORT = 5557
BOUND = 85.0  # percent of a core: the figure for a generator-bound process

pytestmark = [pytest.mark.slow, pytest.mark.locust, pytest.mark.netns]


@pytest.fixture
def lan() -> Iterator[Lan]:
    sweep_stale()
    built = Lan.create(["master", "w1", "w2", "target"])
    try:
        yield built
    finally:
        built.destroy()
        assert not [name for name in namespaces() if name.startswith(built.tag)]


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _start_target(lan: Lan, tmp_path: Path) -> None:
    log = tmp_path / "target.log"
    lan.popen("target", [sys.executable, str(TARGET), str(TARGET_PORT)], log)
    poll_until(lambda: "listening" in _text(log), 30, "the target listens")


def _target_count(lan: Lan) -> int:
    url = f"http://{lan.addresses['target']}:{TARGET_PORT}/count"
    return int(lan.run("w1", ["curl", "-sf", url]))


def _worker(lan: Lan, host: str, tmp_path: Path, **env: str) -> Any:
    master = f"{lan.addresses['master']}:{MASTER_PORT}"
    command = rightsizer_command("worker", "--master", master, "-f", str(LOCUSTFILE))
    log = tmp_path / f"{host}.log"
    process = lan.popen(host, command, log, env=clean_env(tmp_path, **env), cwd=tmp_path)
    poll_until(lambda: "worker process(es)" in _text(log), 30, f"{host}'s pool started")
    return process


def _master(lan: Lan, tmp_path: Path, users: str) -> Any:
    args = [
        "run", "-f", str(LOCUSTFILE),
        "--host", f"http://{lan.addresses['target']}:{TARGET_PORT}",
        "--users", users, "--step-time", "5", "--cooldown", "0", "--drain-timeout", "2",
        "--no-report", "--expect-workers", "2",
        "--master-bind-host", lan.addresses["master"],
        "--master-bind-port", str(MASTER_PORT), "--allow-remote-workers",
        "--out", str(tmp_path / "runs"),
    ]  # fmt: skip
    log = tmp_path / "master.log"
    return lan.popen(
        "master", rightsizer_command(*args), log, env=clean_env(tmp_path), cwd=tmp_path
    )


def _run_dir(tmp_path: Path) -> Path:
    (found,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    return found


def _documents(tmp_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    run = _run_dir(tmp_path)
    steps: list[dict[str, Any]] = json.loads((run / "steps.json").read_text())["steps"]
    manifest: dict[str, Any] = json.loads((run / "manifest.json").read_text())
    return steps, manifest


def _nothing_left(lan: Lan) -> None:
    target = lan.namespace("target")
    assert {ns: pids for ns, pids in lan.leftovers().items() if ns != target} == {}
    for host in ("master", "w1", "w2"):
        assert lan.listening(host) == [], host


def test_two_workers_on_other_hosts_count_every_request_and_each_is_watched(
    lan: Lan, tmp_path: Path
) -> None:
    _start_target(lan, tmp_path)
    # w2 runs the same locustfile, but each task first burns 50 ms of its core, and its users
    # do not wait: they keep it busy.
    workers = [_worker(lan, "w1", tmp_path), _worker(lan, "w2", tmp_path, BURN_MS="50")]
    master = _master(lan, tmp_path, "4,8")
    assert master.wait(150) == 0, _text(tmp_path / "master.log")
    assert [w.wait(60) for w in workers] == [0, 0]  # they ended with the master's run

    steps, manifest = _documents(tmp_path)
    answered = _target_count(lan)
    assert answered > 100
    assert sum(step["requests_total"] for step in steps) == answered

    report = manifest["worker_report"]
    assert len(report["accepted"]) == 2 and report["refused"] == {} and report["lost"] == []
    for step in steps:
        assert step["complete"] is True and step["lost_workers"] == []
        assert set(step["generator_cpu_by_process"]) == {"master", *report["accepted"]}
        assert all(cpu is not None for cpu in step["generator_cpu_by_process"].values())
        assert set(step["generator_busy_by_process"]) == set(report["accepted"])
    # The burning worker, and only it, bound the generator in every step. Its CPU may stay
    # under 85% on this shared machine; on a core or waiting for one, it was busy all along.
    figures = [(s["generator_cpu_by_process"], s["generator_busy_by_process"]) for s in steps]
    assert [len(step["generator_bound_processes"]) for step in steps] == [1, 1], figures
    (busy,) = steps[0]["generator_bound_processes"]
    assert busy in report["accepted"]
    (calm,) = set(report["accepted"]) - {busy}
    for step in steps:
        assert step["generator_bound"] is True and step["generator_bound_processes"] == [busy]
        assert step["generator_busy_by_process"][busy] > BOUND
        assert step["generator_busy_by_process"][calm] < BOUND
        for process in (calm, "master"):
            assert step["generator_cpu_by_process"][process] < BOUND
    assert "warning: a load generator process was busy" in _text(tmp_path / "master.log")
    # The answer does not call the highest step the target's limit, and sizes the generator.
    notes = json.loads((_run_dir(tmp_path) / "answer.json").read_text())["notes"]
    (refusal,) = [note for note in notes if note.startswith("not the target's limit")]
    assert "saturated at 8 users" in refusal and busy in refusal
    assert [note for note in notes if "generator process(es)" in note]
    _nothing_left(lan)


def test_a_worker_killed_mid_step_is_reported_and_its_step_marked_incomplete(
    lan: Lan, tmp_path: Path
) -> None:
    _start_target(lan, tmp_path)
    workers = [_worker(lan, "w1", tmp_path), _worker(lan, "w2", tmp_path)]
    master = _master(lan, tmp_path, "4,4")
    poll_until(lambda: _target_count(lan) > 40, 120, "the load is under way")
    (locust_worker,) = psutil.Process(workers[1].pid).children()
    locust_worker.send_signal(signal.SIGKILL)
    killed_at = time.time()
    assert master.wait(150) == 0, _text(tmp_path / "master.log")
    assert workers[0].wait(60) == 0
    assert workers[1].wait(60) == 1  # its pool says a worker process died
    assert f"worker process {locust_worker.pid} ended with code -9" in _text(tmp_path / "w2.log")

    steps, manifest = _documents(tmp_path)
    (lost,) = manifest["worker_report"]["lost"]
    assert lost["worker"] in manifest["worker_report"]["accepted"]
    # (its last report may have been on the wire when the kill landed: the master stamps
    # reports when they arrive)
    assert lost["last_report"] <= lost["noticed"] and killed_at <= lost["noticed"]
    assert f"worker {lost['worker']} lost" in _text(tmp_path / "master.log")
    (during,) = [s for s in steps if s["start"] <= killed_at < s["end"]]
    assert during["complete"] is False and during["lost_workers"] == [lost["worker"]]
    # Steps the loss did not reach stay complete; what was recorded never exceeds the answers.
    for step in steps:
        reached = lost["last_report"] < step["end"] and lost["noticed"] >= step["start"]
        assert step["complete"] is not reached
    assert sum(step["requests_total"] for step in steps) <= _target_count(lan)
    _nothing_left(lan)
