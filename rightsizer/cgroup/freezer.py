"""The cgroup freezer: stop a task's processes where they are (connections stay open), thaw them.

    frozen = freeze_v1(own_freezer_dir, "rightsizer-fault-1234-1", pids)   # cgroup v1
    frozen = freeze_v2(task_group_dir)                                      # cgroup v2
    frozen.thaw()                                                           # safe to call twice

v1 has the freezer as a hierarchy of its own, where the fleet makes no groups: `freeze_v1` makes
one under this process's own freezer group, moves the pids in, writes `FROZEN` to
`freezer.state`; `thaw` writes `THAWED`, moves them back and removes the group. v2 has the
freezer in every group: `freeze_v2` writes 1 to the task group's `cgroup.freeze` and `thaw` 0.
Both wait (bounded) until the kernel says the state was reached.

A frozen group outlives a process that is SIGKILLed, and its processes cannot even die until
thawed; so each freeze has a guard, `python -m rightsizer.cgroup.freezer DIR VERSION [HOME]`,
a child that waits for the end of a pipe only we hold: when we end, however we end, the pipe
closes and the guard thaws (and on v1 empties and removes the group).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rightsizer.cgroup.group import (
    make_group,
    read_pids,
    read_text,
    remove_dir,
    write_pid,
    write_value,
)
from rightsizer.errors import CgroupError

SETTLE_TIMEOUT = 3.0
GUARD_TIMEOUT = 60.0
_POLL = 0.01


def _wait_for(check: Path, want: str, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            text = read_text(check)
        except OSError as exc:
            raise CgroupError(f"cannot read {check} ({exc.strerror})") from None
        if want in text.split("\n"):
            return
        if time.monotonic() > deadline:
            raise CgroupError(f"{what}: {check} still reads {text.strip()!r} after {timeout:g} s")
        time.sleep(_POLL)


@dataclass
class Frozen:
    """A frozen group; `thaw()` undoes the freeze (and, on v1, the group it made)."""

    directory: Path
    version: int
    pids: tuple[int, ...] = ()
    home: Path | None = None  # v1: the group the pids came from and go back to
    thawed: bool = field(default=False)
    guard: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start_guard(self) -> None:
        """The child that thaws this group if we end without doing it (see the module)."""
        args = [sys.executable, "-m", __name__, str(self.directory), str(self.version)]
        self.guard = subprocess.Popen(
            [*args, *([str(self.home)] if self.home else [])],
            stdin=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C in the terminal must not end it first
        )

    def thaw(self, timeout: float = SETTLE_TIMEOUT) -> None:
        if self.thawed:
            return
        try:
            self._thaw(timeout)
        finally:
            self._end_guard()

    def _end_guard(self) -> None:
        guard, self.guard = self.guard, None
        if guard is not None and guard.stdin is not None:
            guard.stdin.close()  # the guard finds the group thawed (or gone) and exits
            try:
                guard.wait(timeout=SETTLE_TIMEOUT)
            except subprocess.TimeoutExpired:
                guard.kill()
                guard.wait()

    def _thaw(self, timeout: float) -> None:
        if self.version == 1:
            write_value(self.directory / "freezer.state", "THAWED")
            _wait_for(self.directory / "freezer.state", "THAWED", "thaw", timeout)
            self._empty_and_remove(timeout)
        else:
            write_value(self.directory / "cgroup.freeze", "0")
            _wait_for(self.directory / "cgroup.events", "frozen 0", "thaw", timeout)
        self.thawed = True

    def _empty_and_remove(self, timeout: float) -> None:
        """Move the pids back home and remove the group, again until `timeout`: a process that
        was exiting when thawed (the fleet stops its tasks as we die) cannot move, and keeps
        the group busy until it is gone."""
        assert self.home is not None
        deadline = time.monotonic() + timeout
        while True:
            for pid in read_pids(self.directory / "cgroup.procs"):
                write_pid(self.home / "cgroup.procs", pid)
            try:
                remove_dir(self.directory, attempts=5)
                return
            except CgroupError:
                if time.monotonic() > deadline:
                    raise

    @property
    def frozen_now(self) -> bool:
        """What the kernel says at this moment (False once the v1 group is removed)."""
        try:
            if self.version == 1:
                return read_text(self.directory / "freezer.state").strip() == "FROZEN"
            return "frozen 1" in read_text(self.directory / "cgroup.events").split("\n")
        except OSError:
            return False


FAULT_GROUP_PREFIX = "rightsizer-fault-"


def fault_group_name(owner: int, task: int) -> str:
    """The v1 freezer group a run (`owner`, its pid) freezes `task` in."""
    return f"{FAULT_GROUP_PREFIX}{owner}-t{task}"


def sweep_stale_groups(own: Path, proc_root: Path = Path("/proc")) -> list[Path]:
    """Thaw and remove the v1 fault groups under `own` whose owner no longer runs (its guard
    failed too); a group that still holds a process is thawed and left, never emptied by
    force. Returns the groups removed."""
    removed = []
    for group in sorted(own.glob(f"{FAULT_GROUP_PREFIX}*-t*")):
        owner = group.name.removeprefix(FAULT_GROUP_PREFIX).split("-", 1)[0]
        if not owner.isdigit() or (proc_root / owner).exists():
            continue
        try:
            write_value(group / "freezer.state", "THAWED")
            if read_pids(group / "cgroup.procs"):
                continue
            remove_dir(group, attempts=5)
        except (CgroupError, OSError):
            continue
        removed.append(group)
    return removed


def freeze_v1(
    own: Path, name: str, pids: tuple[int, ...], timeout: float = SETTLE_TIMEOUT
) -> Frozen:
    """Make `own/name`, move `pids` into it (from `own`, where they return) and freeze it."""
    directory = own / name
    make_group(directory)
    frozen = Frozen(directory, 1, pids, own)
    try:
        for pid in pids:
            write_pid(directory / "cgroup.procs", pid)
        frozen.start_guard()
        write_value(directory / "freezer.state", "FROZEN")
        _wait_for(directory / "freezer.state", "FROZEN", "freeze", timeout)
    except BaseException:
        frozen.thaw(timeout)
        raise
    return frozen


def freeze_v2(group: Path, timeout: float = SETTLE_TIMEOUT) -> Frozen:
    """Freeze the v2 group `group` (every process in it and below)."""
    frozen = Frozen(group, 2)
    try:
        frozen.start_guard()
        write_value(group / "cgroup.freeze", "1")
        _wait_for(group / "cgroup.events", "frozen 1", "freeze", timeout)
    except BaseException:
        frozen.thaw(timeout)
        raise
    return frozen


def own_freezer_dir(cgroup_root: Path, proc_root: Path = Path("/proc")) -> Path:
    """This process's group in the v1 freezer hierarchy; CgroupError when there is none."""
    mount = cgroup_root / "freezer"
    if not (mount / "freezer.state").exists() and not (mount / "cgroup.procs").exists():
        raise CgroupError(f"no cgroup v1 freezer mounted at {mount}")
    try:
        lines = (proc_root / "self" / "cgroup").read_text().splitlines()
    except OSError as exc:
        raise CgroupError(f"cannot read this process's groups ({exc.strerror})") from None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and "freezer" in parts[1].split(","):
            return mount.joinpath(*Path(parts[2]).parts[1:])
    raise CgroupError("this process is in no v1 freezer group")


def v2_group_of(pid: int, mount: Path, proc_root: Path = Path("/proc")) -> Path:
    """The v2 group directory of `pid` under the unified `mount`."""
    try:
        lines = (proc_root / str(pid) / "cgroup").read_text().splitlines()
    except OSError as exc:
        raise CgroupError(f"cannot read the groups of pid {pid} ({exc.strerror})") from None
    for line in lines:
        if line.startswith("0::"):
            return mount.joinpath(*Path(line[3:]).parts[1:])
    raise CgroupError(f"pid {pid} is in no cgroup v2 group")


def _guard(argv: list[str]) -> int:
    """The guard's body: wait for our parent's pipe to close, then thaw what it names."""
    directory, version = Path(argv[0]), int(argv[1])
    home = Path(argv[2]) if len(argv) > 2 else None
    while os.read(0, 4096):
        pass
    if not directory.is_dir():
        return 0  # thawed and removed already
    frozen = Frozen(directory, version, home=home)
    try:
        frozen.thaw(GUARD_TIMEOUT)  # nobody waits for the guard: it may take its time
    except CgroupError as exc:
        print(f"rightsizer freezer guard: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_guard(sys.argv[1:]))
