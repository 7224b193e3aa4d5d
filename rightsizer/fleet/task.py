"""One task: a process (and its children) in its own capped group, and how it ended.

Exit reasons read like ECS's: a task the kernel killed at its memory limit is recorded as
"OutOfMemoryError: Container killed due to memory usage" (exit code 137), any other exit as
"Essential container in task exited", and one we stopped as "Task stopped by rightsizer".
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from rightsizer.cgroup.group import Group, kill_all
from rightsizer.errors import CgroupError
from rightsizer.fleet.child import child_setup
from rightsizer.process import signal_process, start_time, stop_child

OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"
EXITED_REASON = "Essential container in task exited"
STOPPED_REASON = "Task stopped by rightsizer"


class TaskState(Enum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"


@dataclass(frozen=True)
class TaskExit:
    """How a task ended: `exit_code` is negative for a signal (-9: SIGKILL)."""

    exit_code: int
    reason: str
    oom: bool
    at: float


def render_command(template: Sequence[str], port: int) -> list[str]:
    """Replace `{port}` in every argument (and nothing else, so other braces stay as they are)."""
    return [arg.replace("{port}", str(port)) for arg in template]


class Task:
    """A started task process; `poll()` tells whether and how it ended."""

    def __init__(
        self, task_id: int, slot: int, port: int, group: Group, process: subprocess.Popen[bytes]
    ) -> None:
        self.id = task_id
        self.slot = slot
        self.port = port
        self.group = group
        self.process = process
        self.started_at = time.time()
        self.state = TaskState.STARTING
        self.exit: TaskExit | None = None
        self._stopping = False

    @classmethod
    def start(
        cls,
        task_id: int,
        slot: int,
        port: int,
        command: Sequence[str],
        *,
        group: Group,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
    ) -> Task:
        """Start the command in `group` (joined before exec) with its output in `log_path`."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                render_command(command, port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                preexec_fn=child_setup(group.procs_files()),  # noqa: PLW1509 (why: see child.py)
                start_new_session=True,  # Ctrl-C reaches the supervisor, which stops in order
            )
        group.add_pid(process.pid)  # uncapped groups learn their root process here
        return cls(task_id, slot, port, group, process)

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> TaskExit | None:
        """The exit once the process has ended (computed once), else None."""
        if self.exit is None:
            code = self.process.poll()
            if code is not None:
                self._ended(code)
        return self.exit

    def _ended(self, code: int) -> None:
        oom = _oom_kills(self.group) > 0
        if oom:
            reason = OOM_REASON
        elif self._stopping:
            reason = STOPPED_REASON
        else:
            reason = f"{EXITED_REASON} (exit code {code})"
        self.exit = TaskExit(code, reason, oom, time.time())
        self.state = TaskState.STOPPED

    def terminate(self) -> None:
        """Ask the task to stop (SIGTERM) without waiting; `stop()` waits."""
        self._stopping = True
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)

    def stop(self, grace: float = 5.0) -> TaskExit:
        """SIGTERM, then SIGKILL after `grace` seconds; also ends any child left in its group."""
        self._stopping = True
        if self.poll() is None:
            stop_child(self.process, grace)
            self.poll()
        self._end_leftovers()
        assert self.exit is not None
        return self.exit

    def _end_leftovers(self) -> None:
        """Processes the task started that are still in its group (ours: it is our group).

        With `cgroup.kill` the kernel ends them all at once; otherwise each pid read from the
        group is signalled only while it is the process that had that start time and is still
        in the group (a pidfd pins it between that check and the signal)."""
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                pids = self.group.pids()
            except CgroupError:
                return
            if not pids:
                return
            if not any(kill_all(procs) for procs in self.group.procs_files()):
                for pid in pids:
                    signal_process(
                        pid, start_time(pid), signal.SIGKILL, still_ours=self._holds(pid)
                    )
            time.sleep(0.02)

    def _holds(self, pid: int) -> Callable[[], bool]:
        """Whether `pid` is in the task's group now."""

        def holds() -> bool:
            try:
                return pid in self.group.pids()
            except CgroupError:
                return False

        return holds

    def remove_group(self) -> None:
        self.group.remove()


def _oom_kills(group: Group) -> int:
    try:
        return group.oom_kills()
    except CgroupError:
        return 0
