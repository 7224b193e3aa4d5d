"""A record, outside the cgroup tree, of every process a supervisor started.

If the supervisor dies without cleaning up (SIGKILL, power cut of the terminal), the next start
reads the records of owners that are gone and ends exactly those processes, identified by pid AND
start time, so a recycled pid of an unrelated process is never touched.

    ledger = Ledger(default_directory(state_dir), "rightsizer-4242-1")
    ledger.record(task_pid, "task 3")
    ...
    ledger.close()                       # clean stop: nothing left to end

The records live in `<state_dir>/processes/`, a private directory (`rightsizer.private_path`):
records that name processes to kill must come from nobody but the user, so a directory or a
record that another user owns, or that group or others can write, is refused (RefusedError)
and nothing is ended. A record that cannot be read otherwise (a broken file, a wrong field) is
skipped with one warning (a broken file is renamed to `<name>.broken`); it never stops a fleet
from starting.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rightsizer.errors import RefusedError, UsageError
from rightsizer.json_document import parse_json_document
from rightsizer.numbers import finite_number
from rightsizer.private_path import check_private, private_directory, read_private
from rightsizer.process import PROC, running, signal_process, start_time
from rightsizer.rundir import write_json

log = logging.getLogger("rightsizer.fleet")
LEDGER_DIR = "processes"
MAX_RECORD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """One process: pid, start time (seconds since boot) and what it was."""

    pid: int
    created: float
    what: str


def default_directory(state_dir: Path) -> Path:
    """`<state_dir>/processes`: beside the fleet's state, where only the user can write."""
    return state_dir / LEDGER_DIR


def _private(directory: Path) -> Path:
    """The ledger directory, made private if missing; RefusedError when it, or the directory
    that holds it, is not private."""
    check_private(private_directory(directory).parent)
    return directory


class Ledger:
    """The records of one owner (a Fleet), in `<directory>/<name>.json`."""

    def __init__(self, directory: Path, name: str, owner_pid: int | None = None) -> None:
        self.path = _private(directory) / f"{name}.json"
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


def _read(path: Path) -> dict[str, Any] | None:
    """A record's JSON object, or None when it is broken; RefusedError when it is not private
    (FileNotFoundError when it is gone)."""
    try:
        data = read_private(path, MAX_RECORD_BYTES)
        document = parse_json_document(data, str(path)) if len(data) <= MAX_RECORD_BYTES else None
    except (FileNotFoundError, RefusedError):
        raise
    except (OSError, UsageError):  # unreadable, or not JSON (too deep a nesting included)
        return None
    return document if isinstance(document, dict) else None


def sweep_ledgers(directory: Path, proc_root: Path = PROC) -> list[Entry]:
    """End the recorded processes of owners that are gone; returns the entries ended.

    RefusedError, before anything is ended, when the directory or a record in it is not
    private."""
    ended: list[Entry] = []
    broken: list[str] = []
    if not directory.exists():
        return ended
    _private(directory)
    paths = sorted(directory.glob("*.json"))
    for path in paths:
        check_private(path)  # all of them first: one planted record and nothing is ended
    for path in paths:
        try:
            document = _read(path)
        except FileNotFoundError:
            continue  # ended and removed meanwhile by its owner
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
