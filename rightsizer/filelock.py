"""An advisory lock on an open descriptor, closing it when the lock is not had.

fd = locked(os.open(path, os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)
if fd is None: ...   # another process holds it (only with LOCK_NB)
"""

from __future__ import annotations

import fcntl
import os


def locked(fd: int, operation: int) -> int | None:
    """`fd` once `flock(fd, operation)` holds, or None when `operation` has LOCK_NB and another
    process holds a conflicting lock. Either way, a descriptor not handed back is closed."""
    try:
        fcntl.flock(fd, operation)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd
