"""cgroup v1: one directory per controller (`cpu`, `cpuacct`, `memory`), possibly co-mounted.

A task's group is the same relative path under each controller's own directory:

    <own cpu dir>/rightsizer-<pid>-<n>/task-3/cpu.cfs_quota_us       quota per period
    <own cpuacct dir>/rightsizer-<pid>-<n>/task-3/cpuacct.usage       CPU time in ns
    <own memory dir>/rightsizer-<pid>-<n>/task-3/memory.limit_in_bytes
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from rightsizer.cgroup.group import (
    MemoryUsage,
    make_group,
    read_int,
    read_keyed,
    read_pids,
    remove_dir,
    remove_tree,
    write_pid,
    write_value,
)
from rightsizer.cgroup.hierarchy import Hierarchy
from rightsizer.errors import CgroupError

CFS_PERIOD_US = 100_000
WRITABLE_ADVICE = "; run rightsizer as root, or in a cgroup delegated to your user"


@dataclass(frozen=True)
class V1Group:
    """One task's directories under the cpu, cpuacct and memory controllers."""

    name: str
    cpu_dir: Path
    cpuacct_dir: Path
    memory_dir: Path

    @property
    def capped(self) -> bool:
        return True

    def dirs(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys((self.cpu_dir, self.cpuacct_dir, self.memory_dir)))

    def procs_files(self) -> tuple[Path, ...]:
        return tuple(d / "cgroup.procs" for d in self.dirs())

    def add_pid(self, pid: int) -> None:
        for procs in self.procs_files():
            write_pid(procs, pid)

    def pids(self) -> list[int]:
        found: dict[int, None] = {}
        for procs in self.procs_files():
            found.update(dict.fromkeys(read_pids(procs)))
        return list(found)

    def usage_ns(self) -> int:
        return read_int(self.cpuacct_dir / "cpuacct.usage")

    def memory(self) -> MemoryUsage:
        stat = read_keyed(self.memory_dir / "memory.stat")
        # total_* include descendant groups (use_hierarchy); plain rss/cache are this group's.
        rss = stat.get("total_rss", stat.get("rss", 0))
        cache = stat.get("total_cache", stat.get("cache", 0))
        inactive = stat.get("total_inactive_file", stat.get("inactive_file", 0))
        return MemoryUsage(rss, cache, inactive)

    def throttled(self) -> int:
        return read_keyed(self.cpu_dir / "cpu.stat").get("nr_throttled", 0)

    def oom_kills(self) -> int:
        return read_keyed(self.memory_dir / "memory.oom_control").get("oom_kill", 0)

    def remove(self) -> None:
        for path in self.dirs():
            remove_dir(path)


class V1Driver:
    """Creates task groups under one parent `rightsizer-<pid>-<n>` per controller."""

    def __init__(self, hierarchy: Hierarchy, parent: str) -> None:
        self._hierarchy = hierarchy
        self.parent = parent

    def parent_dirs(self) -> tuple[Path, ...]:
        return tuple(own / self.parent for own in self._hierarchy.own_dirs())

    def prepare(self) -> None:
        """Create the parent groups; CgroupError (and nothing left) when the tree is not
        writable."""
        made: list[Path] = []
        try:
            for path in self.parent_dirs():
                make_group(path, WRITABLE_ADVICE)
                made.append(path)
        except CgroupError:
            for path in reversed(made):
                with contextlib.suppress(CgroupError):
                    remove_dir(path, attempts=5)
            raise

    def create(self, name: str, cpu: float, memory_mb: int) -> V1Group:
        dirs = self._hierarchy.dirs
        group = V1Group(
            name,
            dirs["cpu"] / self.parent / name,
            dirs["cpuacct"] / self.parent / name,
            dirs["memory"] / self.parent / name,
        )
        for path in group.dirs():
            make_group(path)
        try:
            write_value(group.cpu_dir / "cpu.cfs_period_us", str(CFS_PERIOD_US))
            write_value(group.cpu_dir / "cpu.cfs_quota_us", str(round(cpu * CFS_PERIOD_US)))
            limit = str(memory_mb * 1024 * 1024)
            write_value(group.memory_dir / "memory.limit_in_bytes", limit)
            memsw = group.memory_dir / "memory.memsw.limit_in_bytes"
            if memsw.exists():
                # Without this the task would swap instead of being killed at its limit.
                write_value(memsw, limit)
        except CgroupError:
            group.remove()
            raise
        return group

    def close(self) -> None:
        """Remove the parent groups and any task group still in them (their processes must
        have exited)."""
        for path in self.parent_dirs():
            remove_tree(path)
