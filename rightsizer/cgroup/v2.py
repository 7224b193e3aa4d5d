"""cgroup v2: one unified tree; controllers are handed down through `cgroup.subtree_control`.

<own dir>/cgroup.subtree_control                 "+cpu +memory" (so children can be capped)
<own dir>/rightsizer-<pid>-<n>/cgroup.subtree_control
<own dir>/rightsizer-<pid>-<n>/task-3/cpu.max    "25000 100000"
<own dir>/rightsizer-<pid>-<n>/task-3/memory.max
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rightsizer.cgroup.group import (
    MemoryUsage,
    read_keyed,
    read_pids,
    remove_dir,
    remove_tree,
    write_pid,
    write_value,
)
from rightsizer.cgroup.hierarchy import UNIFIED, Hierarchy
from rightsizer.errors import CgroupError

CPU_PERIOD_US = 100_000
CONTROLLERS = ("cpu", "memory")


@dataclass(frozen=True)
class V2Group:
    """One task's directory in the unified tree."""

    name: str
    path: Path

    @property
    def capped(self) -> bool:
        return True

    def procs_files(self) -> tuple[Path, ...]:
        return (self.path / "cgroup.procs",)

    def add_pid(self, pid: int) -> None:
        write_pid(self.path / "cgroup.procs", pid)

    def pids(self) -> list[int]:
        return read_pids(self.path / "cgroup.procs")

    def usage_ns(self) -> int:
        return read_keyed(self.path / "cpu.stat").get("usage_usec", 0) * 1000

    def memory(self) -> MemoryUsage:
        stat = read_keyed(self.path / "memory.stat")
        return MemoryUsage(stat.get("anon", 0), stat.get("file", 0), stat.get("inactive_file", 0))

    def throttled(self) -> int:
        return read_keyed(self.path / "cpu.stat").get("nr_throttled", 0)

    def oom_kills(self) -> int:
        return read_keyed(self.path / "memory.events").get("oom_kill", 0)

    def remove(self) -> None:
        remove_dir(self.path)


class V2Driver:
    """Creates task groups under `<own dir>/rightsizer-<pid>-<n>`."""

    def __init__(self, hierarchy: Hierarchy, parent: str) -> None:
        self._own = hierarchy.dirs[UNIFIED]
        self.parent = parent

    def parent_dirs(self) -> tuple[Path, ...]:
        return (self._own / self.parent,)

    def prepare(self) -> None:
        """Create the parent and hand cpu and memory down to it and to its children."""
        _enable_controllers(self._own)
        parent = self._own / self.parent
        try:
            parent.mkdir(exist_ok=True)
        except OSError as exc:
            raise CgroupError(f"cannot create group {parent} ({exc.strerror})") from exc
        _enable_controllers(parent)

    def create(self, name: str, cpu: float, memory_mb: int) -> V2Group:
        group = V2Group(name, self._own / self.parent / name)
        try:
            group.path.mkdir(exist_ok=True)
        except OSError as exc:
            raise CgroupError(f"cannot create group {group.path} ({exc.strerror})") from exc
        try:
            write_value(group.path / "cpu.max", f"{round(cpu * CPU_PERIOD_US)} {CPU_PERIOD_US}")
            write_value(group.path / "memory.max", str(memory_mb * 1024 * 1024))
            swap = group.path / "memory.swap.max"
            if swap.exists():
                # Without this the task would swap instead of being killed at its limit.
                write_value(swap, "0")
        except CgroupError:
            group.remove()
            raise
        return group

    def close(self) -> None:
        """Remove the parent groups and any task group still in them (their processes must
        have exited)."""
        for path in self.parent_dirs():
            remove_tree(path)


def _enable_controllers(path: Path) -> None:
    """Add cpu and memory to `path`'s subtree_control unless they are there already."""
    control = path / "cgroup.subtree_control"
    try:
        enabled = {word.lstrip("+") for word in control.read_text().split()}
    except OSError:
        enabled = set()
    missing = [c for c in CONTROLLERS if c not in enabled]
    if not missing:
        return
    try:
        write_value(control, " ".join(f"+{c}" for c in missing))
    except CgroupError as exc:
        # EBUSY: v2 forbids controllers below a group that holds processes (not the root).
        raise CgroupError(
            f"{exc}; v2 allows capped child groups only below a group without processes: "
            "run rightsizer in its own (empty-parent) group, e.g. `systemd-run --scope`"
        ) from None
