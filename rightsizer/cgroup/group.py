"""The seam between the fleet and the cgroup tree: a driver makes groups, a group caps and reads.

    driver = open_driver(...)                  # rightsizer.cgroup.driver
    group = driver.create("task-1", cpu=0.25, memory_mb=512)
    subprocess.Popen(cmd, preexec_fn=child_setup(group.procs_files()))
    group.usage_ns(), group.memory(), group.throttled(), group.oom_kills()
    group.remove()

Implementations: v1 (`rightsizer.cgroup.v1`), v2 (`rightsizer.cgroup.v2`) and uncapped
(`rightsizer.cgroup.uncapped`, when the tree cannot be written).
"""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rightsizer.errors import CgroupError

GROUP_PREFIX = "rightsizer-"


@dataclass(frozen=True)
class MemoryUsage:
    """Bytes charged to a group: `rss` (anonymous memory) and `cache` (page cache) apart, and
    `inactive_file`, the part of the cache the kernel reclaims first when the limit nears."""

    rss: int
    cache: int
    inactive_file: int = 0

    @property
    def total(self) -> int:
        return self.rss + self.cache

    @property
    def in_use(self) -> int:
        """What the task really holds: everything but the reclaimable inactive page cache.
        Docker, the ECS agent and the kubelet (working set) report this, not the total: a task
        that writes files fills its cache up to the limit without being short of memory."""
        return max(0, self.total - self.inactive_file)


class Group(Protocol):
    """One task's group (the same interface whatever the version)."""

    @property
    def name(self) -> str: ...

    @property
    def capped(self) -> bool: ...

    def procs_files(self) -> tuple[Path, ...]:
        """Files a child writes its own pid to before it execs (empty when uncapped)."""
        ...

    def add_pid(self, pid: int) -> None:
        """Put a process we started into the group (idempotent; a gone process is ignored)."""
        ...

    def pids(self) -> list[int]:
        """Processes in the group now."""
        ...

    def usage_ns(self) -> int:
        """CPU time used by the group since it was created, in nanoseconds."""
        ...

    def memory(self) -> MemoryUsage: ...

    def throttled(self) -> int:
        """CFS periods in which the group was throttled, since it was created."""
        ...

    def oom_kills(self) -> int:
        """Processes of the group the kernel killed for exceeding the memory limit."""
        ...

    def remove(self) -> None:
        """Remove the group (its processes must have exited)."""
        ...


class CgroupDriver(Protocol):
    """Makes task groups; one method, so a test or another platform can supply its own."""

    def create(self, name: str, cpu: float, memory_mb: int) -> Group: ...


def read_text(path: Path) -> str:
    """A control file's contents. Raw os calls: the samplers read a few of these per task per
    tick, and io's text wrappers would cost more than the kernel's answer."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode()


def read_int(path: Path) -> int:
    try:
        return int(read_text(path).split()[0])
    except (OSError, ValueError, IndexError) as exc:
        raise CgroupError(f"cannot read a number from {path} ({exc})") from None


def read_keyed(path: Path) -> dict[str, int]:
    """A `key value` per line file (cpu.stat, memory.stat, memory.events, memory.oom_control)."""
    try:
        text = read_text(path)
    except OSError as exc:
        raise CgroupError(f"cannot read {path} ({exc.strerror})") from None
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def make_group(path: Path, advice: str = "") -> None:
    """Create the group directory `path` (one already there is taken as it is: left by a dead
    process that had our pid, it is ours now); CgroupError naming it, `advice` appended."""
    try:
        path.mkdir(exist_ok=True)
    except OSError as exc:
        raise CgroupError(f"cannot create group {path} ({exc.strerror}){advice}") from exc


def write_value(path: Path, value: str) -> None:
    """Write one control value; a refusal becomes a CgroupError naming the file."""
    try:
        with path.open("w") as handle:
            handle.write(value)
    except OSError as exc:
        raise CgroupError(f"cannot write {value!r} to {path} ({exc.strerror})") from exc


def write_pid(procs_file: Path, pid: int) -> None:
    """Move `pid` (a process we started) into the group of `procs_file`; gone is fine."""
    try:
        with procs_file.open("w") as handle:
            handle.write(str(pid))
    except ProcessLookupError:
        return
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return
        raise CgroupError(f"cannot put pid {pid} into {procs_file} ({exc.strerror})") from exc


def kill_all(procs_file: Path) -> bool:
    """SIGKILL every process in the group of `procs_file` at once through its `cgroup.kill`
    (cgroup v2, Linux 5.14+): the kernel picks them, so no pid is read and no pid can be
    recycled; False when the group has no such file (v1, older kernels, uncapped)."""
    kill_file = procs_file.parent / "cgroup.kill"
    if procs_file.name != "cgroup.procs" or not kill_file.exists():
        return False
    try:
        with kill_file.open("w") as handle:
            handle.write("1")
    except OSError:
        return False
    return True


def read_pids(procs_file: Path) -> list[int]:
    try:
        return [int(line) for line in procs_file.read_text().split()]
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise CgroupError(f"cannot read {procs_file} ({exc})") from None


def remove_dir(path: Path, attempts: int = 50, pause: float = 0.02) -> None:
    """rmdir a group; the kernel may need a moment after the last process exited (EBUSY).

    CgroupError naming the group when it cannot be removed: a process is still inside after
    `attempts` tries, or it still has child groups."""
    attempts = max(1, attempts)
    for attempt in range(attempts):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno == errno.EBUSY and attempt < attempts - 1:
                time.sleep(pause)
                continue
            if exc.errno == errno.EBUSY:
                why = f"processes are still inside after {attempts * pause:g}s"
            elif exc.errno == errno.ENOTEMPTY:
                why = "it still holds other groups or files"
            else:
                why = exc.strerror or str(exc)
            raise CgroupError(f"cannot remove group {path}: {why}") from exc


def remove_tree(path: Path) -> None:
    """rmdir a group and every group below it, deepest first."""
    if not path.is_dir():
        return
    below = [Path(top) / d for top, dirs, _ in os.walk(path) for d in dirs]
    for child in sorted(below, key=lambda p: len(p.parts), reverse=True):
        remove_dir(child)
    remove_dir(path)
