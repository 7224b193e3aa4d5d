"""Choose how tasks are capped: v1 or v2 groups nested under our own, or uncapped with a warning.

choice = open_driver(Path("/sys/fs/cgroup"), parent_name())
if choice.warning: log.warning(choice.warning)     # once: tasks run uncapped, and what to do
group = choice.driver.create("task-1", 0.25, 512)
...
choice.driver.close()                              # removes the parent group
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rightsizer.cgroup.group import GROUP_PREFIX, CgroupDriver
from rightsizer.cgroup.hierarchy import CgroupVersion, detect
from rightsizer.cgroup.uncapped import UncappedDriver
from rightsizer.cgroup.v1 import V1Driver
from rightsizer.cgroup.v2 import V2Driver
from rightsizer.errors import CgroupError

_fleet_numbers = itertools.count(1)


class ManagedDriver(CgroupDriver, Protocol):
    """A driver that also owns a parent group to remove at the end."""

    def parent_dirs(self) -> tuple[Path, ...]:
        """The parent groups this driver created (empty when uncapped)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class DriverChoice:
    """The driver to use, the version found, and the one warning when caps are impossible."""

    driver: ManagedDriver
    version: CgroupVersion | None
    warning: str | None

    @property
    def capped(self) -> bool:
        return self.warning is None


def parent_name(pid: int | None = None) -> str:
    """`rightsizer-<pid>-<n>`, unique in this process: the pid lets a later sweep tell whether
    the owner still runs."""
    return f"{GROUP_PREFIX}{os.getpid() if pid is None else pid}-{next(_fleet_numbers)}"


def open_driver(
    cgroup_root: Path,
    parent: str,
    proc_root: Path = Path("/proc"),
    pid: int | None = None,
) -> DriverChoice:
    """A capping driver whose parent group `parent` exists, or the uncapped one with a warning.

    `pid` names the process whose groups we nest under (default: this one)."""
    pid = os.getpid() if pid is None else pid
    try:
        hierarchy = detect(cgroup_root, proc_root, pid)
    except CgroupError as exc:
        return _uncapped(exc)
    driver: V1Driver | V2Driver
    if hierarchy.version is CgroupVersion.V1:
        driver = V1Driver(hierarchy, parent)
    else:
        driver = V2Driver(hierarchy, parent, pid)
    try:
        driver.prepare()  # leaves nothing behind when it fails
    except CgroupError as exc:
        return _uncapped(exc)
    return DriverChoice(driver, hierarchy.version, None)


def _uncapped(reason: CgroupError) -> DriverChoice:
    """The reason says what to do; the rest says what it means for the readings."""
    warning = (
        f"tasks run UNCAPPED (no CPU quota, no memory limit): {str(reason).rstrip('.')}. "
        "Utilization is still reported against the reservation."
    )
    return DriverChoice(UncappedDriver(), None, warning)
