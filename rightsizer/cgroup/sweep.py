"""Find and remove groups an earlier rightsizer left behind (it crashed or was SIGKILLed).

Only `rightsizer-<pid>[-<n>]` groups directly under this process's own groups are considered,
and only those whose owner pid no longer runs (a zombie counts as gone). A v2 container
(`rightsizer-<pid>`, see `rightsizer.cgroup.container`) goes with its leaf and fleets; the
controllers its owner enabled on the group above stay (that group is the owner's delegated one,
which its manager removes with it). Processes still inside are NOT ended here: the
caller ends those it recorded (`rightsizer.fleet.ledger`) and then calls `remove`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from rightsizer.cgroup.group import GROUP_PREFIX, read_pids, remove_tree
from rightsizer.cgroup.hierarchy import Hierarchy
from rightsizer.process import PROC, running

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


def find_stale(hierarchy: Hierarchy, proc_root: Path = PROC) -> list[StaleGroup]:
    """Groups named `rightsizer-<pid>...` under our own directories whose pid is not running
    (as seen in `proc_root`)."""
    stale: list[StaleGroup] = []
    for own in hierarchy.own_dirs():
        try:
            entries = sorted(own.iterdir())
        except OSError:
            continue
        for entry in entries:
            match = _NAME.match(entry.name)
            if match and entry.is_dir() and not running(int(match.group(1)), proc_root=proc_root):
                stale.append(StaleGroup(entry, int(match.group(1))))
    return stale
