"""Processes we start and watch: is one still running, stop a child, signal by identity.

A process is identified by its pid AND its start time (`start_time`, seconds since boot, from
`/proc/<pid>/stat`), so a pid the kernel recycled for an unrelated process is never mistaken
for ours; a zombie (ended, not yet reaped) counts as gone.

    running(pid)                       # alive now (not a zombie)
    running(pid, created)              # and the same process that had start time `created`
    signal_process(pid, created, SIGKILL)   # never with an unknown start time (created None)
    stop_child(popen, grace=5.0)       # SIGTERM, wait, SIGKILL
    tail(log_path, lines=5)            # "last | lines | of the log" for one-line errors
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rightsizer.errors import UnavailableError

PROC = Path("/proc")
_TAIL_BYTES = 16384
_SAME_START = 0.005  # start times are whole clock ticks (1/100 s): equal, or another process
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # per second, for the start times in stat
# The detached supervisor is started by a short-lived launcher, so it is not our child: nothing
# here waits for it, and it is reaped by init (or a subreaper) when it ends.
_LAUNCHER = """
import os, sys
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
null = os.open(os.devnull, os.O_RDONLY)
actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, log, 1),
           (os.POSIX_SPAWN_DUP2, log, 2)]
print(os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ, file_actions=actions, setsid=True))
"""


def _stat_fields(pid: int, proc_root: Path) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None if gone."""
    try:
        text = (proc_root / str(pid) / "stat").read_text()
    except OSError:  # no such process (or one we may not see): nothing we may act on
        return None
    # The command name is in parentheses and may itself hold spaces or parentheses.
    head, paren, rest = text.rpartition(")")
    return rest.split() if paren and "(" in head else None


def start_time(pid: int, proc_root: Path = PROC) -> float | None:
    """When `pid` started, in seconds since boot; None when there is no such process."""
    fields = _stat_fields(pid, proc_root)
    return None if fields is None else _started(fields)


def _started(fields: list[str]) -> float | None:
    """The start time in a stat line's fields (after the command), in seconds since boot."""
    if len(fields) < 20:
        return None
    try:
        return int(fields[19]) / _CLOCK_TICKS
    except ValueError:
        return None


def running(pid: int, created: float | None = None, proc_root: Path = PROC) -> bool:
    """True while `pid` runs (a zombie is gone) and, when `created` is given, is the process
    that started then (not a recycled pid)."""
    if pid <= 0:
        return False
    fields = _stat_fields(pid, proc_root)
    if not fields or fields[0] in ("Z", "X", "x"):
        return False
    if created is None:
        return True
    now = _started(fields)
    return now is not None and abs(now - created) < _SAME_START


def signal_process(
    pid: int,
    created: float | None,
    sig: int,
    proc_root: Path = PROC,
    still_ours: Callable[[], bool] | None = None,
) -> bool:
    """Send `sig` to `pid` if it is still the process that started at `created` (and, when
    given, `still_ours()` says so: it is still in our group); False if not, and always False
    when the start time is unknown (`created` None): a pid alone may have been recycled.

    A pidfd pins the process first, so the pid cannot be recycled between check and signal;
    only a kernel without pidfds (before 5.3) leaves that short race open."""
    if created is None:
        return False

    def ours() -> bool:
        return running(pid, created, proc_root) and (still_ours is None or still_ours())

    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except OSError:  # a kernel without pidfds: check, then signal
        return ours() and _kill(pid, sig)
    try:
        if not ours():
            return False
        signal.pidfd_send_signal(pidfd, sig)
        return True
    except ProcessLookupError:
        return False
    finally:
        os.close(pidfd)


def _kill(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, created: float | None, timeout: float, proc_root: Path = PROC) -> bool:
    """Wait up to `timeout` s for the process to end; True once it has."""
    deadline = time.monotonic() + timeout
    while running(pid, created, proc_root):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_pid(pid: int, created: float | None, grace: float, proc_root: Path = PROC) -> bool:
    """SIGTERM a process that is not our child, SIGKILL after `grace` s; True if it had to be
    killed."""
    if not signal_process(pid, created, signal.SIGTERM, proc_root):
        return False
    if wait_gone(pid, created, grace, proc_root):
        return False
    signal_process(pid, created, signal.SIGKILL, proc_root)
    wait_gone(pid, created, 5.0, proc_root)
    return True


def stop_child(process: subprocess.Popen[Any], grace: float) -> int:
    """SIGTERM our child, wait up to `grace` s, then SIGKILL; its exit code (negative: signal)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            return process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
    return process.returncode


def stop_children(processes: Sequence[subprocess.Popen[Any]], grace: float) -> None:
    """SIGTERM to each of our children still running, all at once, by PID; then `stop_child`
    each: SIGKILL to those still there after `grace` seconds."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
    for process in processes:
        stop_child(process, grace)


def tail(path: Path, lines: int = 5) -> str:
    """The last `lines` non-blank lines of a log, joined by " | "; "(no output)" if none."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - _TAIL_BYTES))
            text = handle.read().decode(errors="replace")
    except OSError:
        return "(no output)"
    found = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(found[-lines:]) or "(no output)"


def spawn_detached(
    argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
) -> int:
    """Start `argv` (argv[0] an absolute path) in a new session, not as our child, its output
    in `log_path`, with `env` (default: ours); its pid."""
    try:
        launched = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(log_path), *argv],
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UnavailableError(f"cannot start {argv[0]} in the background ({exc})") from None
    if launched.returncode != 0 or not launched.stdout.strip().isdigit():
        last = launched.stderr.strip().splitlines()[-1:] or ["no output"]
        raise UnavailableError(f"cannot start {argv[0]} in the background: {last[0]}")
    return int(launched.stdout)
