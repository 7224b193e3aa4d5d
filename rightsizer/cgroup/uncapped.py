"""A stand-in group when the cgroup tree cannot be written: no caps, same readings.

CPU time and memory come from the task's process tree (psutil), so utilization is still
reported against the reservation; throttling and OOM kills cannot happen and read 0.
"""

from __future__ import annotations

from pathlib import Path

import psutil

from rightsizer.cgroup.group import MemoryUsage


class UncappedGroup:
    """Follows the process tree of the task's first process."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._root: psutil.Process | None = None

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

    def _tree(self) -> list[psutil.Process]:
        if self._root is None:
            return []
        try:
            return [self._root, *self._root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def pids(self) -> list[int]:
        return [p.pid for p in self._tree() if _alive(p)]

    def usage_ns(self) -> int:
        total = 0.0
        for index, proc in enumerate(self._tree()):
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
            if index == 0:  # children already reaped by the root count too
                total += times.children_user + times.children_system
        return round(total * 1e9)

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


class UncappedDriver:
    """Makes `UncappedGroup`s; used when caps are impossible (see `open_driver`)."""

    def create(self, name: str, cpu: float, memory_mb: int) -> UncappedGroup:
        del cpu, memory_mb  # not enforceable here; the samplers still use the reservation
        return UncappedGroup(name)

    def parent_dirs(self) -> tuple[Path, ...]:
        return ()

    def close(self) -> None:
        return None


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
