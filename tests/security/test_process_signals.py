"""Signals sent on a pid alone: never. Only to the process that had that pid AND start time.

A pid read from a file or from `cgroup.procs` may have been recycled for an unrelated process
by the time the signal goes; a record without a start time cannot tell.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rightsizer.cgroup.group import MemoryUsage, kill_all
from rightsizer.errors import RefusedError
from rightsizer.fleet.supervisor import down
from rightsizer.fleet.task import Task
from rightsizer.process import signal_process, start_time

SLEEP = [sys.executable, "-c", "import time; time.sleep(120)"]


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(SLEEP)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_pid_without_its_start_time_is_never_signalled(
    bystander: subprocess.Popen[bytes],
) -> None:
    assert not signal_process(bystander.pid, None, signal.SIGKILL)
    assert bystander.poll() is None
    created = start_time(bystander.pid)
    assert not signal_process(bystander.pid, created, signal.SIGKILL, still_ours=lambda: False)
    assert bystander.poll() is None
    assert signal_process(bystander.pid, created, signal.SIGKILL)
    assert bystander.wait(timeout=10) == -signal.SIGKILL


def test_down_refuses_a_state_file_without_the_supervisors_start_time(
    tmp_path: Path, bystander: subprocess.Popen[bytes]
) -> None:
    # Looks like a fleet, names a running pid, but which process started with that pid?
    document = {"pid": bystander.pid, "control_url": "http://127.0.0.1:9", "name": "x"}
    (tmp_path / "fleet.json").write_text(json.dumps(document))
    with pytest.raises(RefusedError, match="no start time for supervisor pid") as refused:
        down(tmp_path, tmp_path / "no-cgroups", ledger_dir=tmp_path / "ledger")
    assert "\n" not in str(refused.value)
    assert bystander.poll() is None


class _StaleGroup:
    """A group whose first read of `cgroup.procs` names a process that has left it since (its
    pid recycled, as far as the group is concerned): the Group protocol, nothing else."""

    def __init__(self, stale_pid: int) -> None:
        self._reads = [[stale_pid]]

    @property
    def name(self) -> str:
        return "task-1"

    @property
    def capped(self) -> bool:
        return False

    def procs_files(self) -> tuple[Path, ...]:
        return ()

    def add_pid(self, pid: int) -> None:
        return None

    def pids(self) -> list[int]:
        return self._reads.pop(0) if self._reads else []

    def usage_ns(self) -> int:
        return 0

    def memory(self) -> MemoryUsage:
        return MemoryUsage(0, 0)

    def throttled(self) -> int:
        return 0

    def oom_kills(self) -> int:
        return 0

    def remove(self) -> None:
        return None


def test_a_task_never_kills_a_pid_that_left_its_group(
    bystander: subprocess.Popen[bytes],
) -> None:
    task_process = subprocess.Popen([sys.executable, "-c", "pass"])
    task = Task(1, 1, 0, _StaleGroup(bystander.pid), task_process)
    task.stop(grace=10)
    assert bystander.poll() is None


def test_cgroup_kill_is_used_where_the_group_has_it(tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cgroup.procs").write_text("")
    (v2 / "cgroup.kill").write_text("")
    assert kill_all(v2 / "cgroup.procs")
    assert (v2 / "cgroup.kill").read_text() == "1"
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "cgroup.procs").write_text("")
    assert not kill_all(v1 / "cgroup.procs")  # v1 (or an older kernel): pid by pid
