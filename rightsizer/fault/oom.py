"""oom-task: one task's memory group pushed over its limit until the kernel's OOM killer kills
the task.

    facts = push_over_limit(pid, group, version=1)   # {"oom_kills_before": 0, ...}

The mechanism is the kernel's own: a process of ours joins the task's memory group (v1: the
group's `memory` directory; v2: its unified group) and allocates and touches memory in steps,
so the group's usage reaches `memory.limit_in_bytes` / `memory.max`. The group has no swap (the
fleet sets memsw to the same limit), so the memory controller's OOM killer must pick a process
of the group. The task's `oom_score_adj` is raised to 1000 first (no privilege needed to raise
it): the killer picks the task, not our allocator, as a leak inside a container takes down its
main process. This plays a task whose container runs out of memory; the task's own code is not
changed, and nothing outside its group feels the pressure.

The OOM kill is read from the group's counter (v1 `memory.oom_control`, v2 `memory.events`,
`oom_kill`) and from the task's process being gone. The allocator is SIGKILLed on every way out
(and dies with us: the parent-death signal), so the replacement task the supervisor starts in
the slot does not meet it. When the kernel did not kill the task within `OOM_WAIT` seconds, the
task's score is put back and UnavailableError says so: a fault that did not happen is never
reported.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from rightsizer.cgroup.freezer import v2_group_of
from rightsizer.cgroup.group import read_keyed
from rightsizer.errors import CgroupError, UnavailableError
from rightsizer.fleet.child import child_setup

OOM_WAIT = 15.0  # seconds for the kernel to kill the task
POLL = 0.02
CHUNK_MB = 8  # the allocator's step
# Allocate and touch CHUNK_MB at a time, for ever: it ends when we SIGKILL it, or when the OOM
# killer takes it after all. `b"\1" * n` writes every page (a zero-filled buffer may not).
ALLOCATOR = f"""
import time
held = []
while True:
    held.append(b"\\1" * ({CHUNK_MB} << 20))
    time.sleep(0.001)
"""


def memory_group_of(pid: int, cgroup_root: Path, version: int) -> Path:
    """The memory group directory of `pid`: v1 under the `memory` mount, v2 its unified one."""
    if version == 2:
        mount = (
            cgroup_root
            if (cgroup_root / "cgroup.controllers").exists()
            else cgroup_root / "unified"
        )
        return v2_group_of(pid, mount)
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError as exc:
        raise CgroupError(f"cannot read the groups of pid {pid} ({exc.strerror})") from None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return (cgroup_root / "memory").joinpath(*Path(path).parts[1:])
    raise CgroupError(f"pid {pid} is in no cgroup v1 memory group")


def oom_kills(group: Path, version: int) -> int:
    """The group's OOM-kill count (0 on a kernel that does not count them)."""
    name = "memory.events" if version == 2 else "memory.oom_control"
    return read_keyed(group / name).get("oom_kill", 0)


def push_over_limit(pid: int, group: Path, version: int) -> dict[str, Any]:
    """Make the kernel OOM-kill `pid` in its memory `group`; the facts for faults.json."""
    limit_file = group / ("memory.max" if version == 2 else "memory.limit_in_bytes")
    limit = limit_file.read_text().strip()
    before = oom_kills(group, version)
    adj = Path(f"/proc/{pid}/oom_score_adj")
    old_adj = adj.read_text().strip()
    adj.write_text("1000")
    allocator: subprocess.Popen[bytes] | None = None
    started = time.time()
    try:
        allocator = subprocess.Popen(
            [sys.executable, "-S", "-c", ALLOCATOR],
            stdin=subprocess.DEVNULL,
            preexec_fn=child_setup([group / "cgroup.procs"]),  # noqa: PLW1509 (see fleet/child.py)
            start_new_session=True,
        )
        deadline = started + OOM_WAIT
        while _alive(pid) and time.time() < deadline:
            if allocator.poll() is not None:
                break  # the killer took ours (or it failed): the task's fate says which
            time.sleep(POLL)
        killed_at = time.time()
    finally:
        if allocator is not None:
            by_kernel = allocator.poll() is not None  # the killer took it too, after the task
            allocator.kill()
            allocator.wait()
    after = oom_kills(group, version)
    if _alive(pid):
        with contextlib.suppress(OSError):  # a task that ended meanwhile
            adj.write_text(old_adj)
        raise UnavailableError(
            f"--fault oom-task: the kernel did not OOM-kill pid {pid} within {OOM_WAIT:g} s "
            f"(group {group}, limit {limit}, OOM kills {before} -> {after})"
        )
    return {
        "pid": pid,
        "mechanism": "memory cgroup OOM killer (an allocator in the task's memory group)",
        "group": str(group),
        "limit": limit,
        "oom_kills_before": before,
        "oom_kills_after": after,
        "allocator_pid": allocator.pid if allocator is not None else None,
        "allocator_oom_killed": by_kernel,
        "seconds_to_kill": round(killed_at - started, 3),
    }


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
