from __future__ import annotations

import sys
import time
from pathlib import Path

from rightsizer.cgroup.uncapped import UncappedGroup
from rightsizer.fleet.task import EXITED_REASON, STOPPED_REASON, Task, TaskState, render_command
from rightsizer.process import running


def test_port_placeholder_is_replaced_in_every_argument() -> None:
    assert render_command(["app", "--port={port}", "{port}", "{x}"], 81) == [
        "app", "--port=81", "81", "{x}",
    ]  # fmt: skip


def _start(tmp_path: Path, code: str) -> Task:
    return Task.start(
        3, 1, 12345, [sys.executable, "-c", code, "{port}"],
        group=UncappedGroup("task-3"), env={}, log_path=tmp_path / "task.log",
    )  # fmt: skip


def test_an_exit_is_recorded_with_its_code(tmp_path: Path) -> None:
    task = _start(tmp_path, "import sys; print('bye', sys.argv[1]); sys.exit(3)")
    task.process.wait(timeout=20)
    ended = task.poll()
    assert ended is not None and ended.exit_code == 3 and not ended.oom
    assert ended.reason == f"{EXITED_REASON} (exit code 3)"
    assert task.state is TaskState.STOPPED
    assert (tmp_path / "task.log").read_text() == "bye 12345\n"


def test_a_stopped_task_says_so(tmp_path: Path) -> None:
    task = _start(tmp_path, "import time; time.sleep(60)")
    ended = task.stop(grace=5)
    assert ended.reason == STOPPED_REASON and ended.exit_code == -15


def test_a_worker_left_by_an_uncapped_task_that_exited_is_ended_on_stop(tmp_path: Path) -> None:
    release = tmp_path / "exit"
    code = (
        "import os, subprocess, sys, time\n"
        "w = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(w.pid, flush=True)\n"
        f"while not os.path.exists({str(release)!r}): time.sleep(0.01)\n"
    )  # the task exits once told; its worker is orphaned
    task = _start(tmp_path, code)
    deadline = time.monotonic() + 20
    log = tmp_path / "task.log"
    while (len(task.group.pids()) < 2 or not log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)  # the sampler sees the tree like this, once per tick
    worker = int(log.read_text().split()[0])
    release.touch()
    assert task.process.wait(timeout=20) == 0
    assert running(worker)
    task.stop(grace=1)
    deadline = time.monotonic() + 10
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not running(worker)
