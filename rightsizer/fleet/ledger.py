"""A record, outside the cgroup tree, of every process a supervisor started.

If the supervisor dies without cleaning up (SIGKILL, power cut of the terminal), the next start
reads the records of owners that are gone and ends exactly those processes, identified by pid AND
start time, so a recycled pid of an unrelated process is never touched.

    ledger = Ledger(default_directory(), "rightsizer-4242-1")
    ledger.record(task_pid, "task 3")
    ...
    ledger.close()                       # clean stop: nothing left to end

A record that cannot be read (a broken file, a wrong field) is skipped with one warning (a broken
file is renamed to `<name>.broken`); it never stops a fleet from starting.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rightsizer.fleet.state import read_state
from rightsizer.numbers import finite_number
from rightsizer.process import PROC, running, signal_process, start_time
from rightsizer.rundir import write_json

log = logging.getLogger("rightsizer.fleet")


@dataclass(frozen=True)
class Entry:
    """One process: pid, start time (seconds since boot) and what it was."""

    pid: int
    created: float
    what: str


def default_directory() -> Path:
    """Machine-wide, per user: a sweep finds records whatever state directory was used."""
    return Path(tempfile.gettempdir()) / f"rightsizer-{os.getuid()}"


class Ledger:
    """The records of one owner (a Fleet), in `<directory>/<name>.json`."""

    def __init__(self, directory: Path, name: str, owner_pid: int | None = None) -> None:
        self.path = directory / f"{name}.json"
        self._owner = os.getpid() if owner_pid is None else owner_pid
        self._owner_created = start_time(self._owner)
        self._entries: dict[int, Entry] = {}

    def record(self, pid: int, what: str) -> None:
        created = start_time(pid)
        if created is not None:
            self._entries[pid] = Entry(pid, created, what)
            self._save()

    def forget(self, pid: int) -> None:
        if self._entries.pop(pid, None) is not None:
            self._save()

    def close(self) -> None:
        self._entries.clear()
        self.path.unlink(missing_ok=True)

    def _save(self) -> None:
        write_json(
            self.path,
            {
                "owner": self._owner,
                "owner_created": self._owner_created,
                "processes": [asdict(e) for e in self._entries.values()],
            },
        )


def _entries(document: dict[str, Any]) -> tuple[list[Entry], int]:
    """The well-formed entries, and how many were not."""
    raw = document.get("processes", [])
    if not isinstance(raw, list):
        return [], 1
    good: list[Entry] = []
    for item in raw:
        pid = item.get("pid") if isinstance(item, dict) else None
        created = finite_number(item.get("created")) if isinstance(item, dict) else None
        what = item.get("what") if isinstance(item, dict) else None
        if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 and created is not None:
            good.append(Entry(pid, created, str(what)))
    return good, len(raw) - len(good)


def _owner_gone(document: dict[str, Any], proc_root: Path) -> bool:
    owner = document.get("owner")
    if isinstance(owner, bool) or not isinstance(owner, int):
        return True
    return not running(owner, finite_number(document.get("owner_created")), proc_root)


def sweep_ledgers(directory: Path, proc_root: Path = PROC) -> list[Entry]:
    """End the recorded processes of owners that are gone; returns the entries ended."""
    ended: list[Entry] = []
    broken: list[str] = []
    if not directory.is_dir():
        return ended
    for path in sorted(directory.glob("*.json")):
        document = read_state(path)
        if document is None:
            broken.append(path.name)
            with contextlib.suppress(OSError):  # kept for a look; warned about once
                path.replace(path.with_suffix(".broken"))
            continue
        if not _owner_gone(document, proc_root):
            continue
        entries, bad = _entries(document)
        if bad:
            broken.append(path.name)
        for entry in entries:
            if signal_process(entry.pid, entry.created, signal.SIGKILL, proc_root):
                ended.append(entry)
        path.unlink(missing_ok=True)
    if broken:
        log.warning(
            "skipped unreadable process records in %s (%s): processes they name, if any, were "
            "not ended",
            directory,
            ", ".join(broken),
        )
    return ended
