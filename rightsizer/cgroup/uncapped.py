"""A stand-in group when the cgroup tree cannot be written: no caps, same readings.

CPU time and memory come from the task's process tree (psutil), so utilization is still
reported against the reservation; throttling and OOM kills cannot happen and read 0.

Without a group the kernel does not keep the tree together for us, so this one remembers every
process it has seen below the task's first process (pid and start time): a worker whose parent
exited is still found, and still ended when the task stops.
"""

from __future__ import annotations

from pathlib import Path

import psutil

from rightsizer.cgroup.group import MemoryUsage
from rightsizer.process import running, start_time


class UncappedGroup:
    """Follows the process tree of the task's first process."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._root: psutil.Process | None = None
        self._seen: dict[int, float | None] = {}  # pid -> start time, every process seen
        self._usage_ns = 0  # the highest reading so far: the counter never goes back

    @property
    def name(self) -> str:
        return self._name

    @property
    def capped(self) -> bool:
        return False

    def procs_files(self) -> tuple[()]:
        return ()

    def add_pid(self, pid: int) -> None:
        if self._root is None:
            try:
                self._root = psutil.Process(pid)
            except psutil.NoSuchProcess:
                return
            self._seen[pid] = start_time(pid)

    def _tree(self) -> list[psutil.Process]:
        """The live tree now: the root's descendants plus those seen before whose parent has
        exited (orphans are re-parented outside the tree)."""
        found: dict[int, psutil.Process] = {}
        if self._root is not None:
            try:
                found[self._root.pid] = self._root
                found.update((p.pid, p) for p in self._root.children(recursive=True))
            except psutil.NoSuchProcess:
                found.pop(self._root.pid, None)
        for pid, created in list(self._seen.items()):
            if pid in found:
                continue
            if not running(pid, created):
                del self._seen[pid]
                continue
            try:
                proc = psutil.Process(pid)
                found[pid] = proc
                found.update((p.pid, p) for p in proc.children(recursive=True))
            except psutil.NoSuchProcess:
                continue
        for pid in found:
            if pid not in self._seen:
                self._seen[pid] = start_time(pid)
        return list(found.values())

    def pids(self) -> list[int]:
        return [p.pid for p in self._tree() if running(p.pid, self._seen.get(p.pid))]

    def usage_ns(self) -> int:
        """CPU time of the tree: each process's own time plus that of the children it reaped
        (a live child that reaps a grandchild keeps its time in the tree)."""
        total = 0.0
        for proc in self._tree():
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        # Time of a process reaped outside the tree (an orphan) leaves the sum; never go back.
        self._usage_ns = max(self._usage_ns, round(total * 1e9))
        return self._usage_ns

    def memory(self) -> MemoryUsage:
        rss = 0
        for proc in self._tree():
            try:
                rss += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return MemoryUsage(rss, 0)

    def throttled(self) -> int:
        return 0

    def oom_kills(self) -> int:
        return 0

    def remove(self) -> None:
        self._root = None
        self._seen.clear()


class UncappedDriver:
    """Makes `UncappedGroup`s; used when caps are impossible (see `open_driver`)."""

    def create(self, name: str, cpu: float, memory_mb: int) -> UncappedGroup:
        del cpu, memory_mb  # not enforceable here; the samplers still use the reservation
        return UncappedGroup(name)

    def parent_dirs(self) -> tuple[Path, ...]:
        return ()

    def close(self) -> None:
        return None
