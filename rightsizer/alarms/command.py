"""The command action's shell, bounded in time and in the output kept in memory.

    done = run_command("notify-ops", env, timeout=30.0, started=remember)
    done.returncode, done.output, done.discarded, done.timed_out

The command runs under /bin/sh in a session of its own (so ending it ends its process group,
nothing else), stdin from /dev/null, stdout and stderr into one pipe. The pipe is drained as
the command writes, keeping only the last OUTPUT_KEEP bytes: a command that prints for its
whole `timeout` costs at most that much memory. Past `timeout` its process group is killed.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

OUTPUT_KEEP = 64 * 1024
_READ = 65536


@dataclass(frozen=True)
class CommandRun:
    """How a command ended: `returncode` (negative: a signal), the last OUTPUT_KEEP bytes of
    its output as text, how many bytes before those were discarded, and whether it ran out of
    time (then it was killed)."""

    returncode: int
    output: str
    discarded: int
    timed_out: bool


def run_command(
    command: str,
    env: Mapping[str, str],
    *,
    timeout: float,
    started: Callable[[subprocess.Popen[bytes]], None] = lambda _: None,
) -> CommandRun:
    """Run `command` to its end or for `timeout` seconds; `started` gets the process as soon
    as it exists (the caller may end its group). OSError when it cannot start; CommandError
    when it started but its output could not be read (its group is killed first, as on any
    exception here)."""
    proc = subprocess.Popen(
        ["/bin/sh", "-c", command],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started(proc)
        deadline = time.monotonic() + timeout
        assert proc.stdout is not None
        with proc.stdout:
            tail, discarded, drained = _drain(proc.stdout.fileno(), deadline)
        timed_out = not drained
        if drained:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
    except OSError as exc:
        # It started: reading its output failed. Not the OSError of a command that cannot start.
        _end(proc)
        raise CommandError(f"reading the command's output failed ({exc.strerror or exc})") from exc
    except BaseException:
        _end(proc)  # an interrupt, or `started` raised: leave no process group behind
        raise
    if timed_out:
        _end(proc)
    text = tail.decode(errors="replace")
    return CommandRun(proc.returncode, text, discarded, timed_out)


class CommandError(Exception):
    """The command started but could not be followed to its end (it was killed)."""


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command's process group, reap it and close its pipe."""
    end_group(proc, signal.SIGKILL)
    proc.wait()
    if proc.stdout is not None:
        with contextlib.suppress(OSError):
            proc.stdout.close()


def _drain(fd: int, deadline: float) -> tuple[bytes, int, bool]:
    """Read `fd` to its end or the deadline, keeping the last OUTPUT_KEEP bytes; returns
    them, how many bytes were dropped, and whether the end was reached."""
    tail = bytearray()
    discarded = 0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                continue
            chunk = os.read(fd, _READ)
            if not chunk:
                return bytes(tail), discarded, True
            tail += chunk
            if len(tail) > OUTPUT_KEEP:
                extra = len(tail) - OUTPUT_KEEP
                del tail[:extra]
                discarded += extra
    return bytes(tail), discarded, False


def end_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the process group of a command we started (its PID leads its own session)."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)
