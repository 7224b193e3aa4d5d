"""A record, outside the cgroup tree, of every process a supervisor started.

If the supervisor dies without cleaning up (SIGKILL, power cut of the terminal), the next start
reads the records of owners that are gone and ends exactly those processes, identified by pid AND
start time, so a recycled pid of an unrelated process is never touched.

    ledger = Ledger(default_directory(), "rightsizer-4242-1")
    ledger.record(task_pid, "task 3")
    ...
    ledger.close()                       # clean stop: nothing left to end
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from rightsizer.rundir import write_json


@dataclass(frozen=True)
class Entry:
    pid: int
    created: float
    what: str


def default_directory() -> Path:
    """Machine-wide, per user: a sweep finds records whatever state directory was used."""
    return Path(tempfile.gettempdir()) / f"rightsizer-{os.getuid()}"


def created_at(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


class Ledger:
    """The records of one owner (a Fleet), in `<directory>/<name>.json`."""

    def __init__(self, directory: Path, name: str, owner_pid: int | None = None) -> None:
        self.path = directory / f"{name}.json"
        self._owner = os.getpid() if owner_pid is None else owner_pid
        self._owner_created = created_at(self._owner)
        self._entries: dict[int, Entry] = {}

    def record(self, pid: int, what: str) -> None:
        created = created_at(pid)
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


def _owner_gone(document: dict[str, object], alive: Callable[[int, float | None], bool]) -> bool:
    owner, created = document.get("owner"), document.get("owner_created")
    if not isinstance(owner, int):
        return True
    return not alive(owner, created if isinstance(created, float) else None)


def _same_process(pid: int, created: float | None) -> bool:
    now = created_at(pid)
    return now is not None and (created is None or abs(now - created) < 0.01)


def sweep_ledgers(
    directory: Path, alive: Callable[[int, float | None], bool] = _same_process
) -> list[Entry]:
    """End the recorded processes of owners that are gone; returns the entries ended."""
    ended: list[Entry] = []
    if not directory.is_dir():
        return ended
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(document, dict) or not _owner_gone(document, alive):
            continue
        for raw in document.get("processes", []):
            entry = Entry(int(raw["pid"]), float(raw["created"]), str(raw["what"]))
            if _same_process(entry.pid, entry.created):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(entry.pid, signal.SIGKILL)
                ended.append(entry)
        path.unlink(missing_ok=True)
    return ended
