"""A fleet's state on disk, so `down` and `status` can find the supervisor from another shell.

<state_dir>/fleet.json      the state document (url, supervisor pid, control URL, tasks, ...)
<state_dir>/fleet.lock      held (flock) by the running supervisor: one fleet per state dir
<state_dir>/supervisor.log  a detached supervisor's output
<state_dir>/fleets/<pid>/   a supervisor's own directory: haproxy.cfg, haproxy.log, logs/
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import IO, Any

from rightsizer.errors import RefusedError
from rightsizer.process import PROC, running

STATE_FILE = "fleet.json"
LOCK_FILE = "fleet.lock"
LOG_FILE = "supervisor.log"
FLEETS_DIR = "fleets"


def supervisor_workdir(state_dir: Path) -> Path:
    """`<state_dir>/fleets/<pid>`: the directory of this process as a fleet's supervisor."""
    return state_dir / FLEETS_DIR / str(os.getpid())


def read_state(path: Path) -> dict[str, Any] | None:
    """The JSON object at `path` (a state document, a ledger), or None when there is none (or
    it is unreadable or not an object)."""
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def supervisor_pid(document: dict[str, Any]) -> tuple[int, float | None] | None:
    """The recorded supervisor's pid and start time, or None when the document has no pid."""
    pid, created = document.get("pid"), document.get("pid_created")
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return None
    if isinstance(created, bool) or not isinstance(created, int | float):
        return pid, None
    return pid, float(created)


def supervisor_alive(document: dict[str, Any], proc_root: Path = PROC) -> bool:
    """True when the recorded supervisor pid runs and is the same process (start time)."""
    identity = supervisor_pid(document)
    return identity is not None and running(*identity, proc_root=proc_root)


class FleetLock:
    """An exclusive lock on `<state_dir>/fleet.lock` for the life of one supervisor."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._handle: IO[str] | None = None

    def acquire(self) -> FleetLock:
        """Take the lock, or refuse with the running fleet's pid and URL."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        handle = (self.state_dir / LOCK_FILE).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise RefusedError(self._busy_message()) from None
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> FleetLock:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()

    def _busy_message(self) -> str:
        document = read_state(self.state_dir / STATE_FILE) or {}
        where = f" (pid {document.get('pid')}, {document.get('url')})" if document else ""
        return (
            f"a fleet is already up for {self.state_dir}{where}; "
            "stop it with `rightsizer down` first"
        )


def is_locked(state_dir: Path) -> bool:
    """True while a supervisor holds the state dir's lock."""
    try:
        FleetLock(state_dir).acquire().release()
    except RefusedError:
        return True
    return False
