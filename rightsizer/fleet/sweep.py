"""Clean up after a supervisor that died without stopping its fleet (SIGKILL, crash).

Run at every fleet start and by `rightsizer down`: end the processes recorded in the ledgers of
owners that are gone, then remove their `rightsizer-<pid>-<n>` groups. A group that still holds
a process nobody recorded is left in place and reported, never emptied by force. `up` also
removes the directories (logs, HAProxy's configuration) of supervisors that no longer run.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rightsizer.cgroup.hierarchy import detect
from rightsizer.cgroup.sweep import find_stale
from rightsizer.errors import CgroupError
from rightsizer.fleet.ledger import Entry, sweep_ledgers
from rightsizer.private_path import check_private
from rightsizer.process import PROC, running


@dataclass(frozen=True)
class SweepReport:
    ended: list[Entry] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def sweep(
    cgroup_root: Path, ledger_dir: Path, proc_root: Path = PROC, pid: int | None = None
) -> SweepReport:
    """End recorded leftovers of dead owners and remove their groups."""
    report = SweepReport(ended=sweep_ledgers(ledger_dir, proc_root))
    try:
        hierarchy = detect(cgroup_root, proc_root, "self" if pid is None else pid)
    except CgroupError:
        return report  # no readable tree: nothing of ours can be in it
    for group in find_stale(hierarchy, proc_root):
        try:
            group.remove()
            report.removed.append(group.path)
        except CgroupError:
            pids = group.pids()
            report.left.append(
                f"{group.path} still holds processes {pids} that no ledger recorded; "
                "left in place (end them yourself, then run `rightsizer down`)"
            )
    return report


def sweep_workdirs(
    fleets_dir: Path, proc_root: Path = PROC, own_pid: int | None = None
) -> list[Path]:
    """Remove `<fleets_dir>/<pid>` directories whose supervisor no longer runs (and the one of
    our pid, left by an earlier process that had it); the directories removed. RefusedError
    when `fleets_dir` is not private."""
    own_pid = os.getpid() if own_pid is None else own_pid
    if not fleets_dir.exists():
        return []
    check_private(fleets_dir)  # what it holds is deleted: only our own may be in it
    try:
        entries = sorted(fleets_dir.iterdir())
    except OSError:
        return []
    removed: list[Path] = []
    for entry in entries:
        if not entry.name.isdigit() or entry.is_symlink() or not entry.is_dir():
            continue
        pid = int(entry.name)
        if pid == own_pid or not running(pid, proc_root=proc_root):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
