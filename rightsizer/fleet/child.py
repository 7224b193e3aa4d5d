"""What a child runs between fork and exec: join its groups, die with its parent.

    subprocess.Popen(cmd, preexec_fn=child_setup(group.procs_files()), start_new_session=True)

Joining the groups before exec means not one instruction of the task runs uncapped. The
parent-death signal (prctl PR_SET_PDEATHSIG) ends the child if rightsizer itself crashes or is
SIGKILLed, so no task or HAProxy outlives it. Linux sends it when the *thread* that forked exits,
so the fleet starts every child from one thread that lives as long as the fleet.
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1


def child_setup(procs_files: Sequence[Path] = ()) -> Callable[[], None]:
    """A preexec function: everything it needs is prepared here, before the fork."""
    parent = os.getpid()
    targets = [os.fsencode(path) for path in procs_files]
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    kill = int(signal.SIGKILL)

    def setup() -> None:
        prctl(PR_SET_PDEATHSIG, kill, 0, 0, 0)
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
