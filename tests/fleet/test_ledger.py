from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil

from rightsizer.fleet.ledger import Ledger, sweep_ledgers


def _dead_owner() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_recorded_processes_of_a_dead_owner_are_ended(tmp_path: Path) -> None:
    leftover = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
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
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = _dead_owner()
        ledger = Ledger(tmp_path, f"rightsizer-{dead}-2", owner_pid=dead)
        ledger.record(other.pid, "task 1")
        document = ledger.path.read_text().replace(
            str(psutil.Process(other.pid).create_time()), "12345.0"
        )
        ledger.path.write_text(document)  # as if the pid now belonged to someone else
        assert sweep_ledgers(tmp_path) == []
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
