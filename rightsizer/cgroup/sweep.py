"""Find and remove groups an earlier rightsizer left behind (it crashed or was SIGKILLed).

Only `rightsizer-<pid>[-<n>]` groups directly under this process's own groups are considered,
and only those whose owner pid no longer runs. Processes still inside are NOT ended here: the
caller ends those it recorded (`rightsizer.fleet.ledger`) and then calls `remove`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rightsizer.cgroup.group import GROUP_PREFIX, read_pids, remove_tree
from rightsizer.cgroup.hierarchy import Hierarchy

_NAME = re.compile(rf"^{GROUP_PREFIX}(\d+)(?:-\d+)?$")


@dataclass(frozen=True)
class StaleGroup:
    """A parent group whose owner is gone; `path` is under one controller's own directory."""

    path: Path
    owner_pid: int

    def subgroups(self) -> list[Path]:
        """Descendant directories, deepest first (the order rmdir needs)."""
        found = [Path(top) / d for top, dirs, _ in os.walk(self.path) for d in dirs]
        return sorted(found, key=lambda p: len(p.parts), reverse=True)

    def pids(self) -> list[int]:
        pids: dict[int, None] = {}
        for path in [*self.subgroups(), self.path]:
            pids.update(dict.fromkeys(read_pids(path / "cgroup.procs")))
        return list(pids)

    def remove(self) -> None:
        """rmdir the subgroups and the group; CgroupError when a process is still inside."""
        remove_tree(self.path)


def pid_alive(pid: int, proc_root: Path = Path("/proc")) -> bool:
    """True while `pid` runs; a zombie (dead, not yet reaped by its parent) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = (proc_root / str(pid) / "stat").read_text()
    except OSError:
        return True
    # The state letter follows the command name, which is in parentheses and may hold spaces.
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def find_stale(hierarchy: Hierarchy, alive: Callable[[int], bool] = pid_alive) -> list[StaleGroup]:
    """Groups named `rightsizer-<pid>...` under our own directories whose pid is not running."""
    stale: list[StaleGroup] = []
    for own in hierarchy.own_dirs():
        try:
            entries = sorted(own.iterdir())
        except OSError:
            continue
        for entry in entries:
            match = _NAME.match(entry.name)
            if match and entry.is_dir() and not alive(int(match.group(1))):
                stale.append(StaleGroup(entry, int(match.group(1))))
    return stale
