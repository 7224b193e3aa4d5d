"""`--reset-cmd "..."`: the user's own cleanup before each run (the seed emptied EFS and
recreated its tables), its output kept in the run directory.

    facts = run_reset_command("./reset.sh prod", run_dir / RESET_LOG, cancelled=lambda: False)

The command runs with /bin/sh -c, no standard input, in a session of its own (a Ctrl-C in the
terminal reaches the run, which stops it: SIGTERM, then SIGKILL, to its process group, so what
the script started ends with it). A non-zero exit raises before any load.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rightsizer.errors import RightsizerError
from rightsizer.process import tail

RESET_LOG = "reset-cmd.log"
POLL = 0.1
STOP_GRACE = 10.0


def run_reset_command(
    command: str, log_path: Path, *, cancelled: Callable[[], bool] = lambda: False
) -> dict[str, Any]:
    """Run `command` to its end, output into `log_path`; facts for the manifest. RightsizerError
    with its last words on a non-zero exit; KeyboardInterrupt (the command stopped) as soon as
    `cancelled()` says so."""
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while True:
                try:
                    code = process.wait(POLL)
                    break
                except subprocess.TimeoutExpired:
                    if cancelled():
                        raise KeyboardInterrupt from None
        except BaseException:
            _stop_group(process)
            raise
    if code != 0:
        raise RightsizerError(
            f"--reset-cmd exited {code} before any load: {tail(log_path, 1)} (log: {log_path})"
        )
    return {
        "command": command,
        "exit_code": code,
        "seconds": round(time.monotonic() - started, 1),
        "log": log_path.name,
    }


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the command and what it started (its process group: it leads its own session),
    wait up to STOP_GRACE for the shell, then SIGKILL whatever of the group is left."""
    _signal_group(process, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_GRACE)
    _signal_group(process, signal.SIGKILL)
    process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)
