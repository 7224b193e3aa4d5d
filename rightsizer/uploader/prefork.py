"""Several uploader processes on one listening socket, as gunicorn or PHP-FPM run a service.

One Python process uses at most one core, so a task of a vCPU or more runs `workers`
processes, forked after the socket is bound: they share it and the kernel hands each
connection to one of them. All stay in the task's cgroup (a fork inherits it), so the task's
CPU quota and memory limit cover them all, as a container's do.

    code = run_workers(3, lambda: serve_one(sock))    # returns when all have ended

`rightsizer.fleet.spec.worker_count` says how many a task of a given size gets. The parent
forwards SIGTERM and SIGINT to every worker and waits for them. A worker that ends
on its own ends the others too and the parent exits with its code: the task fails as a whole,
as a container does when its essential process dies, rather than hiding a crash or an OOM kill
behind a restart.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Callable
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_workers(count: int, work: Callable[[], None]) -> int:
    """Fork `count` processes that each run `work()`; wait for all; the exit code to use."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    children: set[int] = set()
    stopping = False

    def stop(_sig: int | None = None, _frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        for _ in range(count):
            if stopping:
                break
            pid = os.fork()
            if pid == 0:
                _child(work)  # never returns
            children.add(pid)
        return _wait(children, stop, lambda: stopping)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait(children: set[int], stop: Callable[[], None], stopping: Callable[[], bool]) -> int:
    """Reap the workers; the first that ends unasked stops the rest and sets the exit code."""
    code = 0
    while children:
        pid, status = os.waitpid(-1, 0)
        if pid not in children:
            continue
        children.discard(pid)
        ended = os.waitstatus_to_exitcode(status)
        if not stopping():
            print(f"uploader worker {pid} ended (exit code {ended}); stopping the others",
                  file=sys.stderr, flush=True)  # fmt: skip
            code = ended if ended > 0 else 1
            stop()
    return code


def _child(work: Callable[[], None]) -> None:
    """Run `work` in a forked worker and leave with its outcome, never through the parent's
    frames (os._exit: no atexit handlers or buffers of the parent run twice)."""
    code = 0
    try:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        work()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 (a worker leaves by os._exit, whatever ended it)
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
