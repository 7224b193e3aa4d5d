"""Clean up after a supervisor that died without stopping its fleet (SIGKILL, crash).

Run at every fleet start and by `rightsizer down`: end the processes recorded in the ledgers of
owners that are gone, then remove their `rightsizer-<pid>-<n>` groups. A group that still holds
a process nobody recorded is left in place and reported, never emptied by force.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rightsizer.cgroup.hierarchy import detect
from rightsizer.cgroup.sweep import find_stale
from rightsizer.errors import CgroupError
from rightsizer.fleet.ledger import Entry, sweep_ledgers


@dataclass(frozen=True)
class SweepReport:
    ended: list[Entry] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def sweep(
    cgroup_root: Path, ledger_dir: Path, proc_root: Path = Path("/proc"), pid: int | None = None
) -> SweepReport:
    """End recorded leftovers of dead owners and remove their groups."""
    report = SweepReport(ended=sweep_ledgers(ledger_dir))
    try:
        hierarchy = detect(cgroup_root, proc_root, "self" if pid is None else pid)
    except CgroupError:
        return report  # no readable tree: nothing of ours can be in it
    for group in find_stale(hierarchy):
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
