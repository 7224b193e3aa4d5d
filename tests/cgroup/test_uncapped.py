"""The uncapped stand-in follows a real process tree: CPU time never runs backwards, and a
worker whose parent exited is still found (and so still ended with its task)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rightsizer.cgroup.uncapped import UncappedGroup
from rightsizer.process import running

# The task starts a child that runs a burning grandchild, reaps it, says so, and waits.
GRANDCHILD = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"
CHILD = (
    "import subprocess, sys, time\n"
    "subprocess.run([sys.executable, '-c', sys.argv[1]])\n"
    "open(sys.argv[2], 'w').close()\n"
    "time.sleep(60)\n"
)
# The task starts a worker, says so, and exits once told: the worker is orphaned.
ORPHANING = (
    "import os, subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "open(sys.argv[1], 'w').close()\n"
    "while not os.path.exists(sys.argv[2]): time.sleep(0.01)\n"
)


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout}s: {what}")
        time.sleep(0.02)


def _end(group: UncappedGroup, root: subprocess.Popen[bytes]) -> None:
    """End the task and what it started (all ours), by pid."""
    for pid in group.pids():
        if pid != root.pid:
            os.kill(pid, signal.SIGKILL)
    root.kill()
    root.wait()


def test_cpu_time_of_a_grandchild_reaped_by_a_live_child_stays_counted(tmp_path: Path) -> None:
    flag = tmp_path / "reaped"
    root = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time\n"
         "subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2], sys.argv[3]])\n"
         "time.sleep(60)\n", CHILD, GRANDCHILD, str(flag)]
    )  # fmt: skip
    group = UncappedGroup("task-1")
    group.add_pid(root.pid)
    readings: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while not flag.exists() and time.monotonic() < deadline:
            readings.append(group.usage_ns())
            time.sleep(0.02)
        assert flag.exists(), "the grandchild did not finish"
        readings.append(group.usage_ns())
    finally:
        _end(group, root)
    assert readings == sorted(readings)  # never backwards
    assert readings[-1] >= 0.35e9  # the grandchild's 0.4 s is in its (live) parent's time


def test_a_worker_whose_parent_exited_is_still_in_the_group(tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "exit"
    root = subprocess.Popen([sys.executable, "-c", ORPHANING, str(started), str(release)])
    group = UncappedGroup("task-2")
    group.add_pid(root.pid)
    try:
        _wait(started.exists, 30, "the worker started")
        _wait(lambda: len(group.pids()) == 2, 10, "root and worker seen")  # as a tick sees them
        (worker,) = [pid for pid in group.pids() if pid != root.pid]
        release.touch()
        assert root.wait(timeout=30) == 0
        assert group.pids() == [worker]  # the root is gone; its worker is not forgotten
    finally:
        _end(group, root)
    _wait(lambda: not running(worker), 10, "the worker ended")
    assert group.pids() == []
