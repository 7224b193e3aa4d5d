"""`rightsizer run --fault ...` for real: a 2-task capped fleet behind HAProxy under light load,
each fault kind done and undone, faults.json checked against HAProxy, the tasks and the
uploader; and a run SIGKILLed while a task is frozen leaves nothing frozen.

About 50 s for the three runs.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import psutil
import pytest

from rightsizer.cgroup.freezer import own_freezer_dir
from tests.load.conftest import Finished, signalled_run
from tests.load.test_run_fleet import fleet_gone, verify
from tests.load.test_run_host import successful_posts
from tests.waiting import poll_until

pytestmark = [pytest.mark.slow, pytest.mark.cgroups, pytest.mark.haproxy, pytest.mark.locust]
FREEZER_GROUPS = "rightsizer-fault-*"


def faults_of(finished: Finished) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((finished.run_dir() / "faults.json").read_text())
    return document


def statuses(record: dict[str, Any]) -> list[str]:
    return [change["status"] for change in record["server_changes"]]


def left_frozen() -> list[Path]:
    return sorted(own_freezer_dir(Path("/sys/fs/cgroup")).glob(FREEZER_GROUPS))


def gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--fault", "reboot@1s"], "--fault: unknown kind 'reboot'"),
        (["--fault", "kill-task@1s", "--host", "http://127.0.0.1:9"], "drop --host"),
        (["--fault", "freeze-task@5s+2s"], "ends after the load's 6 s"),
        (["--fault", "kill-task@1s:3", "--tasks", "2"], "the fleet has 2 task(s)"),
    ],
)
def test_a_fault_the_run_cannot_do_is_one_line_and_nothing_starts(
    run_cli: Any, args: list[str], says: str
) -> None:
    finished = run_cli("--users", "2,2", "--step-time", "3", *args)
    assert finished.returncode == 2, finished.stderr
    (line,) = finished.stderr.strip().splitlines()
    assert says in line
    assert not finished.out.exists() or not any(finished.out.iterdir())


def test_each_fault_kind_is_done_undone_and_recorded(run_cli: Any, tmp_path: Path) -> None:
    frozen_before = left_frozen()
    finished = run_cli(
        "--users", "6,6,6,6,6", "--step-time", "4", "--port", "0", "--cooldown", "0",
        "--tasks", "2",
        "--fault", "lb-drain@4.5s+2s:2", "--fault", "freeze-task@8.5s+2s:1",
        "--fault", "kill-task@12.5s:2", "--fault", "db-outage@16.5s+2s",
        "--fault", "cpu-steal@14s+2s",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    drain, freeze, kill, steal, outage = faults_of(finished)["faults"]
    for record in (drain, freeze, kill, steal, outage):
        assert record["error"] is None and record["started"] is not None
        assert record["ended"] is not None and record["ended"] >= record["started"]
        assert record["baseline"]["requests"] > 0

    # lb-drain: HAProxy's own `show stat` said DRAIN, then UP once it was made ready again.
    assert drain["text"] == "lb-drain@4.5s+2s:2"
    assert statuses(drain)[:2] == ["DRAIN", "UP"]
    assert drain["started"] <= drain["out_of_rotation"] < drain["back_in_rotation"]
    assert drain["back_in_rotation"] >= drain["ended"]
    assert drain["facts"]["server"] == "tasks/t2"

    # freeze-task: the v1 freezer; requests that met the frozen task waited for the thaw.
    assert freeze["facts"]["mechanism"] == "cgroup v1 freezer.state"
    assert freeze["during"]["p95_ms"] > 10 * freeze["baseline"]["p95_ms"]
    assert left_frozen() == frozen_before

    # kill-task: the process is gone, the supervisor put a new one in the slot, HAProxy
    # took the server out and back.
    killed = kill["facts"]["pid"]
    assert gone(killed)
    assert kill["facts"]["replaced_by_pid"] not in (None, killed)
    assert kill["facts"]["replaced_at"] > kill["started"]
    assert kill["out_of_rotation"] is not None and kill["back_in_rotation"] is not None
    assert "UP" not in statuses(kill)[:1]

    # db-outage: our exclusive lock on the uploader's SQLite file held its writers back, and
    # it is released: a lock that waits for nobody is granted at once now.
    assert outage["facts"]["mechanism"] == "SQLite BEGIN EXCLUSIVE"
    assert outage["during"]["p95_ms"] > 10 * outage["baseline"]["p95_ms"]
    assert outage["server_changes"] == [] and outage["out_of_rotation"] is None
    database = sqlite3.connect(outage["facts"]["database"], timeout=0, isolation_level=None)
    try:
        database.execute("BEGIN EXCLUSIVE")
        database.execute("ROLLBACK")
    finally:
        database.close()

    # cpu-steal: one busy neighbour per core, each took CPU time, all gone now.
    assert (
        len(steal["facts"]["pids"]) == len(steal["facts"]["cores"]) == len(os.sched_getaffinity(0))
    )
    assert steal["facts"]["cpu_seconds"] > 0.5 * len(steal["facts"]["pids"])  # of 2 s each
    assert all(gone(pid) for pid in steal["facts"]["pids"])

    # Nothing acknowledged was lost: the uploader's own check after the run agrees.
    integrity = faults_of(finished)["integrity"]
    report = verify(tmp_path)
    posts = successful_posts(finished.steps())
    assert integrity["rows"] == report["rows"] == report["files"]
    assert integrity["acknowledged_uploads"] >= posts > 0  # the steps leave the drain out
    assert integrity["intact"] is True and report["consistent"] is True
    fleet_gone(finished)
    assert gone(kill["facts"]["replaced_by_pid"])

    page = (finished.run_dir() / "report.html").read_text()
    section = page[page.index('<section id="faults">') :]
    for text in ("lb-drain@4.5s+2s:2", "freeze-task@8.5s+2s:1", "kill-task@12.5s:2", "db-outage"):
        assert text in section
    assert "nothing lost, nothing orphaned" in section


def test_ctrl_c_during_faults_undoes_them_and_keeps_the_record(tmp_path: Path) -> None:
    frozen_before = left_frozen()
    finished = signalled_run(
        tmp_path,
        "--users", "3,3", "--step-time", "5", "--port", "0", "--cooldown", "0",
        "--fault", "freeze-task@1s+8s", "--fault", "db-outage@1s+8s",
        ready=lambda out: len(left_frozen()) > len(frozen_before),
        signum=signal.SIGINT,
    )  # fmt: skip
    assert finished.returncode == 130, finished.stderr
    assert left_frozen() == frozen_before
    freeze, outage = faults_of(finished)["faults"]
    for record in (freeze, outage):
        assert record["started"] is not None
        assert record["ended"] < record["started"] + 8  # undone when the load stopped, early
    database = sqlite3.connect(outage["facts"]["database"], timeout=0, isolation_level=None)
    try:
        database.execute("BEGIN EXCLUSIVE")
    finally:
        database.close()
    assert finished.manifest()["interrupted"] is True
    fleet_gone(finished)


def test_a_run_killed_while_a_task_is_frozen_leaves_nothing_frozen(tmp_path: Path) -> None:
    before = set(left_frozen())
    ours: set[Path] = set()  # this run's groups only: another run's may come and go meanwhile

    def frozen(_: Path) -> bool:
        ours.update(set(left_frozen()) - before)
        return bool(ours)

    finished = signalled_run(
        tmp_path,
        "--users", "3,3", "--step-time", "4", "--port", "0", "--cooldown", "0",
        "--fault", "db-outage@1.5s+5s", "--fault", "freeze-task@2s+5s",
        ready=frozen,
        signum=signal.SIGKILL,
    )  # fmt: skip
    assert finished.returncode == -signal.SIGKILL and ours
    poll_until(lambda: not any(g.exists() for g in ours), 60, "the guard thawed and removed")
    # The database lock died with the run: the kernel drops a dead process's file locks.
    database = sqlite3.connect(tmp_path / "state" / "uploader.db", timeout=0)
    try:
        database.execute("BEGIN EXCLUSIVE")
    finally:
        database.close()
    state = json.loads((finished.run_dir() / "fleet.json").read_text())
    poll_until(lambda: gone(state["pid"]), 60, "the fleet's supervisor ended")
    pids = [task["pid"] for task in state["tasks"]]
    poll_until(lambda: all(gone(pid) for pid in pids), 30, "the fleet's tasks ended")
