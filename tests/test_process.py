"""Process identity and ending: zombies are gone, recycled pids are not ours, children stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rightsizer.errors import UnavailableError
from rightsizer.process import (
    running,
    signal_process,
    spawn_detached,
    start_time,
    stop_child,
    stop_pid,
    tail,
)

SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


def _wait_zombie(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline, "the child did not exit"
        time.sleep(0.01)


def test_a_zombie_is_gone_and_a_recycled_pid_is_not_the_same_process() -> None:
    assert running(os.getpid()) and running(os.getpid(), start_time(os.getpid()))
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    created = start_time(child.pid)
    assert created is not None
    _wait_zombie(child.pid)  # ended, not reaped yet
    assert not running(child.pid)
    assert not running(child.pid, created)
    child.wait()
    assert not running(child.pid) and start_time(child.pid) is None
    other = start_time(os.getpid())
    assert other is not None and not running(os.getpid(), other - 1.0)  # another start time
    assert not running(0) and not running(-5)


def test_running_reads_the_given_proc_root(tmp_path: Path) -> None:
    tick = os.sysconf("SC_CLK_TCK")
    for pid, state in ((10, "S"), (11, "Z"), (12, "R")):
        (tmp_path / str(pid)).mkdir()
        fields = [state] + ["0"] * 18 + [str(5 * tick)] + ["0"] * 30
        (tmp_path / str(pid) / "stat").write_text(f"{pid} (a) b) {' '.join(fields)}\n")
    (tmp_path / "13").mkdir()
    (tmp_path / "13" / "stat").write_text("13 (broken")
    assert running(10, proc_root=tmp_path) and running(10, 5.0, tmp_path)
    assert not running(10, 6.0, tmp_path)
    assert not running(11, proc_root=tmp_path)
    assert start_time(12, tmp_path) == 5.0
    assert not running(13, proc_root=tmp_path) and start_time(13, tmp_path) is None
    assert not running(14, proc_root=tmp_path)


def test_a_signal_reaches_only_the_process_that_was_recorded() -> None:
    child = subprocess.Popen(SLEEP)
    try:
        created = start_time(child.pid)
        assert created is not None
        assert not signal_process(child.pid, created + 10, signal.SIGKILL)  # not the same one
        assert child.poll() is None
        assert signal_process(child.pid, created, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
        assert not signal_process(child.pid, created, signal.SIGKILL)  # gone
    finally:
        child.kill()
        child.wait()


def test_stop_child_terminates_then_kills() -> None:
    polite = subprocess.Popen(SLEEP)
    assert stop_child(polite, grace=10) == -signal.SIGTERM
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, sys, time\n"
         "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\n"
         "time.sleep(60)"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
    started = time.monotonic()
    assert stop_child(stubborn, grace=0.3) == -signal.SIGKILL
    assert time.monotonic() - started < 10
    stubborn.stdout.close()
    assert stop_child(stubborn, grace=0.3) == -signal.SIGKILL  # already ended: its code


def test_tail_gives_the_last_non_blank_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_bytes(b"x" * 100_000 + b"\nfirst\n\n  second  \nthird\n\n\xff\n")
    assert tail(log, 3) == "second | third | \ufffd"
    assert tail(log, 1) == "\ufffd"
    assert tail(tmp_path / "missing.log") == "(no output)"
    (tmp_path / "empty.log").write_text("\n \n")
    assert tail(tmp_path / "empty.log") == "(no output)"


def test_a_detached_process_is_not_our_child(tmp_path: Path) -> None:
    log = tmp_path / "detached.log"
    code = "import os, time; print(os.getsid(0) == os.getpid(), flush=True); time.sleep(60)"
    pid = spawn_detached([sys.executable, "-c", code], log)
    created = start_time(pid)
    try:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        deadline = time.monotonic() + 20
        while tail(log) == "(no output)" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tail(log) == "True"  # its own session, its output in the log
    finally:
        assert stop_pid(pid, created, grace=10) is False  # SIGTERM was enough
    assert not running(pid, created)


def test_a_detached_command_that_cannot_start_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UnavailableError, match="cannot start /nonexistent/x in the background"):
        spawn_detached(["/nonexistent/x"], tmp_path / "x.log")
