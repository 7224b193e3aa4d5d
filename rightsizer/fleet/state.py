"""A fleet's state on disk, so `down` and `status` can find the supervisor from another shell.

<state_dir>/fleet.json      the state document (url, supervisor pid, control URL, tasks, ...)
<state_dir>/fleet.lock      held (flock) by the running supervisor of `up`: one per state dir
<state_dir>/serving.lock    held shared by every live supervisor whose tasks use this state dir
                            (`up`, and the fleet of a run): `reset` refuses while it is held
<state_dir>/supervisor.log  a detached supervisor's output
<state_dir>/processes/      the process ledger (`rightsizer.fleet.ledger`)
<state_dir>/fleets/<pid>/   a supervisor's own directory: haproxy.cfg, haproxy.log, logs/

The state directory and every file here must be private (`rightsizer.private_path`): they name
processes to signal, so one that another user could have written is refused, never read.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Any

from rightsizer.errors import RefusedError, UsageError
from rightsizer.filelock import locked
from rightsizer.json_document import parse_json_document
from rightsizer.private_path import open_private, private_directory, read_private
from rightsizer.process import PROC, running

STATE_FILE = "fleet.json"
LOCK_FILE = "fleet.lock"
SERVING_LOCK = "serving.lock"
MAX_STATE_BYTES = 1024 * 1024
LOG_FILE = "supervisor.log"
FLEETS_DIR = "fleets"


def supervisor_workdir(state_dir: Path) -> Path:
    """`<state_dir>/fleets/<pid>`: the directory of this process as a fleet's supervisor."""
    return state_dir / FLEETS_DIR / str(os.getpid())


def load_state(path: Path) -> dict[str, Any] | None:
    """The JSON object at `path` (a state document), or None when there is no such file;
    UsageError (one line, saying why) when it is unreadable, too large, not JSON (too deep a
    nesting included) or not an object; RefusedError when it or its directory is not private."""
    try:
        data = read_private(path, MAX_STATE_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror})") from None
    if len(data) > MAX_STATE_BYTES:
        raise UsageError(f"{path}: larger than {MAX_STATE_BYTES} bytes; not a state document")
    document = parse_json_document(data, str(path))
    if not isinstance(document, dict):
        raise UsageError(f"{path}: not a JSON object, so not a state document; fix or delete it")
    return document


def read_state(path: Path) -> dict[str, Any] | None:
    """`load_state`, with None also for a file that is not a readable state document (the
    private-path refusal still raises)."""
    try:
        return load_state(path)
    except RefusedError:
        raise
    except UsageError:
        return None


def supervisor_pid(document: dict[str, Any]) -> tuple[int, float | None] | None:
    """The recorded supervisor's pid and start time, or None when the document has no pid."""
    pid, created = document.get("pid"), document.get("pid_created")
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return None
    if isinstance(created, bool) or not isinstance(created, int | float):
        return pid, None
    return pid, float(created)


def supervisor_alive(document: dict[str, Any], proc_root: Path = PROC) -> bool:
    """True when the recorded supervisor runs and is the same process: pid AND start time (a
    document without its start time names no process anyone can be sure of)."""
    identity = supervisor_pid(document)
    if identity is None or identity[1] is None:
        return False
    return running(*identity, proc_root=proc_root)


def _flock(state_dir: Path, name: str, operation: int) -> int | None:
    """A descriptor of `<state_dir>/<name>` (both made private if missing) locked with
    `operation`, or None when it has LOCK_NB and another process holds a conflicting lock."""
    return locked(
        open_private(private_directory(state_dir) / name, os.O_RDWR | os.O_CREAT), operation
    )


class FleetLock:
    """An exclusive lock on `<state_dir>/fleet.lock` for the life of one supervisor."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._fd: int | None = None

    def acquire(self) -> FleetLock:
        """Take the lock, or refuse with the running fleet's pid and URL."""
        fd = _flock(self.state_dir, LOCK_FILE, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if fd is None:
            raise RefusedError(self._busy_message())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

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
    fd = _flock(state_dir, LOCK_FILE, fcntl.LOCK_EX | fcntl.LOCK_NB)
    if fd is None:
        return True
    os.close(fd)
    return False


class ServingMark:
    """A shared lock on `<state_dir>/serving.lock` that a supervisor holds while its tasks use
    the state dir: any number of fleets at once, and the kernel drops it when the process ends
    (SIGKILL included), so it never outlives the fleet."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._fd: int | None = None

    def acquire(self) -> ServingMark:
        # Blocking: only the check of a reset holds it exclusively, and for a moment.
        self._fd = _flock(self.state_dir, SERVING_LOCK, fcntl.LOCK_SH)
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ServingMark:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()


def live_fleet(state_dir: Path, proc_root: Path = PROC) -> str | None:
    """How a live fleet serving `state_dir` is known ("supervisor pid 42 at http://...", or
    "a fleet's supervisor holds .../serving.lock"), or None when no fleet serves it: neither a
    state file naming a running supervisor (pid and start time) nor a serving mark."""
    if not state_dir.exists():
        return None
    document = read_state(state_dir / STATE_FILE)
    if document is not None and supervisor_alive(document, proc_root):
        return f"supervisor pid {document.get('pid')} at {document.get('url')}"
    if not (state_dir / SERVING_LOCK).exists():
        return None
    fd = _flock(state_dir, SERVING_LOCK, fcntl.LOCK_EX | fcntl.LOCK_NB)
    if fd is None:
        return f"a fleet's supervisor holds {state_dir / SERVING_LOCK}"
    os.close(fd)
    return None


def refuse_live_fleet(state_dir: Path, doing: str, proc_root: Path = PROC) -> None:
    """RefusedError (one line, nothing done) when a live fleet serves `state_dir`: `doing`
    (e.g. "reset the uploader") would pull its data away from under its tasks."""
    found = live_fleet(state_dir, proc_root)
    if found is not None:
        raise RefusedError(
            f"a fleet still serves {state_dir} ({found}); will not {doing} under it: "
            "stop it with `rightsizer down` (or let its run end) and try again"
        )
