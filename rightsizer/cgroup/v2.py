"""cgroup v2: one unified tree; controllers are handed down through `cgroup.subtree_control`.

<base>/rightsizer-<pid>-<n>/cgroup.subtree_control   "+cpu +memory" (so tasks can be capped)
<base>/rightsizer-<pid>-<n>/task-3/cpu.max           "25000 100000"
<base>/rightsizer-<pid>-<n>/task-3/memory.max

<base> is our own group when it already hands cpu and memory down (the root, or the container
of the rightsizer that started us); otherwise our process leaves its group for a container of
its own first (`rightsizer.cgroup.container`, which says when that is impossible).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rightsizer.cgroup.container import CONTROLLERS, Container, enable, enter, leave
from rightsizer.cgroup.group import (
    MemoryUsage,
    make_group,
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
    """Creates task groups under `<base>/rightsizer-<pid>-<n>`: base is our own group when it
    hands cpu and memory down already, else our container (`rightsizer.cgroup.container`)."""

    def __init__(self, hierarchy: Hierarchy, parent: str, pid: int) -> None:
        self._own = hierarchy.dirs[UNIFIED]
        self._pid = pid
        self._base = self._own
        self._container: Container | None = None
        self.parent = parent

    def parent_dirs(self) -> tuple[Path, ...]:
        return (self._base / self.parent,)

    def prepare(self) -> None:
        """Find (or make) where capped groups may go, and create the parent there.

        Only groups we create get cpu and memory handed down; CgroupError saying what to do
        when that is impossible here (nothing is left behind then)."""
        self._container = enter(self._own, self._pid)
        self._base = self._container.path if self._container else self._own
        parent = self._base / self.parent
        try:
            make_group(parent)
            enable(parent, CONTROLLERS)  # ours, and it holds no process
        except CgroupError:
            self.close()
            raise

    def create(self, name: str, cpu: float, memory_mb: int) -> V2Group:
        group = V2Group(name, self._base / self.parent / name)
        make_group(group.path)
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
        """Remove the parent group and any task group still in it (their processes must have
        exited); the last fleet of the process also leaves the container. A group that cannot
        be removed keeps the container (and our process in its leaf) as it is."""
        for path in self.parent_dirs():
            remove_tree(path)
        container, self._container = self._container, None
        if container is not None:
            leave(container)
