from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from rightsizer.fleet.ledger import Ledger, sweep_ledgers
from rightsizer.process import start_time

SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


def _dead_owner() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_recorded_processes_of_a_dead_owner_are_ended(tmp_path: Path) -> None:
    leftover = subprocess.Popen(SLEEP)
    bystander = subprocess.Popen(SLEEP)
    try:
        dead = _dead_owner()
        ledger = Ledger(tmp_path, f"rightsizer-{dead}-1", owner_pid=dead)
        ledger.record(leftover.pid, "task 1")
        live = Ledger(tmp_path, "rightsizer-live-1")  # owned by this (running) process
        live.record(bystander.pid, "task 1")
        ended = sweep_ledgers(tmp_path)
        assert [(e.pid, e.what) for e in ended] == [(leftover.pid, "task 1")]
        assert leftover.wait(timeout=10) == -9
        assert bystander.poll() is None
        assert [p.name for p in tmp_path.glob("*.json")] == ["rightsizer-live-1.json"]
        live.close()
        assert list(tmp_path.glob("*.json")) == []
    finally:
        for process in (leftover, bystander):
            process.kill()
            process.wait()


def test_a_recycled_pid_is_not_ended(tmp_path: Path) -> None:
    other = subprocess.Popen(SLEEP)
    try:
        dead = _dead_owner()
        ledger = Ledger(tmp_path, f"rightsizer-{dead}-2", owner_pid=dead)
        ledger.record(other.pid, "task 1")
        document = json.loads(ledger.path.read_text())
        assert document["processes"][0]["created"] == start_time(other.pid)
        document["processes"][0]["created"] -= 100.0  # as if the pid now belonged to another
        ledger.path.write_text(json.dumps(document))
        assert sweep_ledgers(tmp_path) == []
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_an_owner_that_is_a_zombie_is_gone(tmp_path: Path) -> None:
    owner = subprocess.Popen([sys.executable, "-c", "pass"])
    leftover = subprocess.Popen(SLEEP)
    try:
        ledger = Ledger(tmp_path, f"rightsizer-{owner.pid}-1", owner_pid=owner.pid)
        ledger.record(leftover.pid, "haproxy")
        owner_stat = Path(f"/proc/{owner.pid}/stat")
        while owner_stat.read_text().rpartition(")")[2].split()[0] != "Z":
            pass  # exited, not reaped: a supervisor whose parent did not wait for it yet
        assert [e.what for e in sweep_ledgers(tmp_path)] == ["haproxy"]
        assert leftover.wait(timeout=10) == -9
    finally:
        owner.wait()
        leftover.kill()
        leftover.wait()


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[1, 2]",
        b"\xff\xfe not text",
        b'{"owner": "x", "processes": 7}',
        b'{"owner": DEAD, "processes": [{"pid": "1"}, {"created": 1.0}, 5, {"pid": true, '
        b'"created": 1.0}, {"pid": -4, "created": 2.0}]}',
    ],
)
def test_broken_records_are_skipped_with_one_warning(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rightsizer")
    leftover = subprocess.Popen(SLEEP)
    try:
        dead = _dead_owner()
        (tmp_path / "rightsizer-1-1.json").write_bytes(content.replace(b"DEAD", b"%d" % dead))
        good = Ledger(tmp_path, f"rightsizer-{dead}-9", owner_pid=dead)
        good.record(leftover.pid, "task 2")  # a sound record beside the broken one still works
        ended = sweep_ledgers(tmp_path)
        assert [e.what for e in ended] == ["task 2"]
        assert leftover.wait(timeout=10) == -9
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1 and "rightsizer-1-1.json" in warnings[0]
        assert sweep_ledgers(tmp_path) == []  # and the next sweep is quiet
        assert len(caplog.records) == 1
    finally:
        leftover.kill()
        leftover.wait()
