"""What a child runs between fork and exec: join its groups, die with its parent.

    subprocess.Popen(cmd, preexec_fn=child_setup(group.procs_files()), start_new_session=True)
    subprocess.Popen(["rightsizer", "up", ...], preexec_fn=child_setup(death_signal=SIGTERM))

Joining the groups before exec means not one instruction of the task runs uncapped. The
parent-death signal (prctl PR_SET_PDEATHSIG) ends the child if its parent crashes or is
SIGKILLed, so no task, HAProxy, fleet supervisor or Locust worker outlives the process that
started it; SIGTERM instead of SIGKILL lets a child that owns things (the fleet supervisor, with
its groups) stop in order. Linux sends it when the *thread* that forked exits, so children are
started from a thread that lives as long as they should (the fleet's own thread, or the main
thread). The signal survives exec (not for set-uid programs).
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1


def child_setup(
    procs_files: Sequence[Path] = (), death_signal: int = signal.SIGKILL
) -> Callable[[], None]:
    """A preexec function: everything it needs is prepared here, before the fork."""
    parent = os.getpid()
    targets = [os.fsencode(path) for path in procs_files]
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    sig = int(death_signal)

    def setup() -> None:
        prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
        pid = str(os.getpid()).encode()
        for target in targets:
            fd = os.open(target, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    return setup
