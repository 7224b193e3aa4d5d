"""The cgroup freezer: v2 against a fixture tree (a thread plays the kernel's cgroup.events),
v1 on this machine's real freezer hierarchy with a process of our own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rightsizer.cgroup.freezer import (
    fault_group_name,
    freeze_v1,
    freeze_v2,
    own_freezer_dir,
    sweep_stale_groups,
    v2_group_of,
)
from rightsizer.cgroup.group import make_group, remove_dir
from rightsizer.errors import CgroupError
from tests.waiting import poll_until

OWN = "sys/fs/cgroup/user.slice/app.scope"


class Kernel:
    """Mirrors cgroup.freeze into cgroup.events, as the kernel does once the group settled."""

    def __init__(self, group: Path, obey: bool = True) -> None:
        self.group, self.obey = group, obey
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(0.005):
            wanted = (self.group / "cgroup.freeze").read_text().strip() or "0"
            shown = wanted if self.obey else "0"
            (self.group / "cgroup.events").write_text(f"populated 1\nfrozen {shown}\n")


@pytest.fixture
def v2_group(fixture_tree: Callable[[str], Path]) -> Iterator[Path]:
    root = fixture_tree("v2")
    group = root / OWN / "task-1"
    group.mkdir()
    (group / "cgroup.freeze").write_text("0")
    (group / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    yield group


def test_v2_freezes_the_group_and_thaws_it(v2_group: Path) -> None:
    kernel = Kernel(v2_group)
    kernel.thread.start()
    try:
        frozen = freeze_v2(v2_group)
        assert (v2_group / "cgroup.freeze").read_text() == "1"
        assert frozen.frozen_now
        assert frozen.guard is not None and frozen.guard.poll() is None  # watching over it
        frozen.thaw()
        assert (v2_group / "cgroup.freeze").read_text() == "0"
        assert not frozen.frozen_now
        assert frozen.guard is None
        frozen.thaw()  # twice is fine
    finally:
        kernel.stop.set()


def test_v2_a_group_that_never_freezes_is_an_error_and_left_thawed(v2_group: Path) -> None:
    kernel = Kernel(v2_group, obey=False)
    kernel.thread.start()
    try:
        with pytest.raises(CgroupError, match=r"freeze: .*cgroup\.events still reads"):
            freeze_v2(v2_group, timeout=0.2)
        assert (v2_group / "cgroup.freeze").read_text() == "0"
    finally:
        kernel.stop.set()


def test_v2_the_guard_thaws_when_its_pipe_closes_without_us(v2_group: Path) -> None:
    kernel = Kernel(v2_group)
    kernel.thread.start()
    try:
        frozen = freeze_v2(v2_group)
        guard = frozen.guard
        assert guard is not None and guard.stdin is not None
        frozen.guard = None  # as if we were gone: only the closed pipe speaks to the guard
        guard.stdin.close()
        assert guard.wait(timeout=20) == 0
        assert (v2_group / "cgroup.freeze").read_text() == "0"
    finally:
        kernel.stop.set()


def test_v2_group_of_reads_the_unified_line(tmp_path: Path) -> None:
    (tmp_path / "77").mkdir()
    (tmp_path / "77" / "cgroup").write_text("0::/user.slice/app.scope/rightsizer-9/task-2\n")
    mount = Path("/mnt/unified")
    expected = mount / "user.slice" / "app.scope" / "rightsizer-9" / "task-2"
    assert v2_group_of(77, mount, tmp_path) == expected
    (tmp_path / "78").mkdir()
    (tmp_path / "78" / "cgroup").write_text("4:memory:/x\n")
    with pytest.raises(CgroupError, match="no cgroup v2 group"):
        v2_group_of(78, mount, tmp_path)


def _freezer_pids(directory: Path) -> set[int]:
    return {int(line) for line in (directory / "cgroup.procs").read_text().split()}


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.fixture
def own_v1() -> Path:
    try:
        own = own_freezer_dir(Path("/sys/fs/cgroup"))
    except CgroupError as exc:
        pytest.fail(f"cgroups: {exc}")
    if not os.access(own / "cgroup.procs", os.W_OK):
        pytest.fail(f"cgroups: cannot write {own / 'cgroup.procs'}")
    return own


@pytest.mark.cgroups
def test_v1_freezes_a_process_of_ours_and_puts_it_back(own_v1: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.01)"])
    name = f"rightsizer-test-freeze-{os.getpid()}"
    try:
        frozen = freeze_v1(own_v1, name, (child.pid,))
        group = own_v1 / name
        assert (group / "freezer.state").read_text().strip() == "FROZEN"  # the kernel's word
        assert _freezer_pids(group) == {child.pid}
        poll_until(lambda: _state(child.pid) == "D", 10, "the frozen child in the refrigerator")
        frozen.thaw()
        assert not group.exists()
        assert child.pid in _freezer_pids(own_v1)
        poll_until(lambda: _state(child.pid) in {"S", "R"}, 10, "the thawed child running")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert not (own_v1 / name).exists()


@pytest.mark.cgroups
def test_v1_a_guard_thaws_and_removes_the_group_when_we_are_gone(own_v1: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.01)"])
    name = f"rightsizer-test-guard-{os.getpid()}"
    try:
        frozen = freeze_v1(own_v1, name, (child.pid,))
        guard = frozen.guard
        assert guard is not None and guard.stdin is not None
        frozen.guard = None
        guard.stdin.close()  # what our death does to the pipe
        assert guard.wait(timeout=20) == 0
        assert not (own_v1 / name).exists()
        assert child.pid in _freezer_pids(own_v1)
        child.terminate()  # a thawed process takes its signal
        assert child.wait(timeout=10) == -signal.SIGTERM
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)


@pytest.mark.cgroups
def test_v1_a_dead_run_s_group_is_thawed_and_removed_a_live_one_s_kept(own_v1: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait(timeout=10)  # its pid now names a run that no longer runs
    dead, live = own_v1 / fault_group_name(gone.pid, 1), own_v1 / fault_group_name(os.getpid(), 2)
    try:
        for group in (dead, live):
            make_group(group)
            (group / "freezer.state").write_text("FROZEN")
        assert dead in sweep_stale_groups(own_v1)
        assert not dead.exists() and live.exists()
        assert (live / "freezer.state").read_text().strip() == "FROZEN"  # not ours to thaw
    finally:
        for group in (dead, live):
            if group.exists():
                (group / "freezer.state").write_text("THAWED")
                remove_dir(group)
