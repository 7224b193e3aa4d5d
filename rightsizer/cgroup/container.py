"""cgroup v2: leaving our own group so that capped groups may go below it.

v2's no-internal-process rule: a group (other than the root) hands cpu and memory down to child
groups only while no process sits in it directly, and our process sits in its own group. When
that group holds our process alone (a delegated group of ours, as `systemd-run --user --scope
-p Delegate=yes` makes), we move it (only it: we started it) into a leaf and cap beside it:

    <own>/cgroup.subtree_control                 +cpu +memory   (was empty; restored on leave)
    <own>/rightsizer-<pid>/                      the container (ours)
    <own>/rightsizer-<pid>/supervisor/           our process now (and children it starts)
    <own>/rightsizer-<pid>/rightsizer-<pid>-<n>/task-3/   a fleet's capped task group

`leave()` puts everything back: controllers off, our process back in <own>, leaf and container
removed. A group holding any other process is never touched: the fleet runs uncapped, with one
warning saying how to run rightsizer in a group of its own. Processes started from the leaf
(`rightsizer up` under `rightsizer run`) nest their fleets in the same container.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from rightsizer.cgroup.group import (
    GROUP_PREFIX,
    make_group,
    read_pids,
    remove_dir,
    write_pid,
    write_value,
)
from rightsizer.cgroup.hierarchy import SUPERVISOR_LEAF, UNIFIED, CgroupVersion, detect
from rightsizer.errors import CgroupError
from rightsizer.process import PROC

CONTROLLERS = ("cpu", "memory")
ADVICE = (
    "run rightsizer in a cgroup of its own, e.g. "
    "`systemd-run --user --scope -p Delegate=yes rightsizer ...` "
    "(as root: `systemd-run --scope -p Delegate=yes rightsizer ...`)"
)


@dataclass
class Container:
    """Our process's container and what entering it changed (undone by `leave`)."""

    own: Path
    pid: int
    enabled_on_own: tuple[str, ...]
    users: int = field(default=1)

    @property
    def path(self) -> Path:
        return self.own / f"{GROUP_PREFIX}{self.pid}"

    @property
    def leaf(self) -> Path:
        return self.path / SUPERVISOR_LEAF


# Which group this process is in is a process-wide fact, so the containers entered are too:
# every fleet of the process shares one, and the last to leave restores the group.
_entered: dict[Path, Container] = {}


def enabled(group: Path) -> set[str]:
    """Controllers a group hands down to its children (its cgroup.subtree_control)."""
    return _words(group / "cgroup.subtree_control")


def enter(own: Path, pid: int) -> Container | None:
    """The container to nest fleets in: None when `own` already hands cpu and memory down
    (the root, or a container made by the rightsizer that started us); else ours, entered now
    or by an earlier fleet of this process. CgroupError saying what to do when impossible."""
    for container in _entered.values():
        if own in (container.own, container.path) and container.pid == pid:
            container.users += 1
            return container
    if set(CONTROLLERS) <= enabled(own):
        return None
    available = _words(own / "cgroup.controllers")
    missing = [c for c in CONTROLLERS if c not in available]
    if missing:
        raise CgroupError(
            f"the {' and '.join(missing)} controller{'s are' if len(missing) > 1 else ' is'} "
            f"not delegated to {own} (its cgroup.controllers: {' '.join(sorted(available))}); "
            + ADVICE
        )
    others = [p for p in read_pids(own / "cgroup.procs") if p != pid]
    if others:
        shown = ", ".join(map(str, others[:5])) + (", ..." if len(others) > 5 else "")
        raise CgroupError(
            f"cgroup v2 caps groups only below a group without processes, and {own} holds "
            f"processes other than this one (pids {shown}), which rightsizer does not move; "
            + ADVICE
        )
    container = _vacate(own, pid)
    _entered[container.path] = container
    return container


def enter_own(
    cgroup_root: Path, proc_root: Path = PROC, pid: int | None = None
) -> Container | None:
    """For a process about to start a fleet supervisor as its child (`rightsizer run`): on v2,
    enter our container when our group holds us alone, so that the child's fleet may cap its
    tasks. None otherwise (v1, no tree, or impossible: the fleet then warns, once, why)."""
    pid = os.getpid() if pid is None else pid
    try:
        hierarchy = detect(cgroup_root, proc_root, pid)
        if hierarchy.version is not CgroupVersion.V2:
            return None
        return enter(hierarchy.dirs[UNIFIED], pid)
    except CgroupError:
        return None


def leave(container: Container) -> None:
    """Undo `enter` once the last fleet of the process is done; CgroupError if it cannot."""
    container.users -= 1
    if container.users > 0:
        return
    _entered.pop(container.path, None)
    _disable(container.path, CONTROLLERS)
    _disable(container.own, container.enabled_on_own)
    write_pid(container.own / "cgroup.procs", container.pid)
    remove_dir(container.leaf)
    remove_dir(container.path)


def _vacate(own: Path, pid: int) -> Container:
    container = Container(own, pid, ())
    made: list[Path] = []
    try:
        for path in (container.path, container.leaf):
            make_group(path)
            made.append(path)
        write_pid(container.leaf / "cgroup.procs", pid)
        missing = tuple(c for c in CONTROLLERS if c not in enabled(own))
        enable(own, missing)
        container.enabled_on_own = missing
        enable(container.path, CONTROLLERS)
    except CgroupError:
        _undo(container, made)
        raise
    return container


def _undo(container: Container, made: list[Path]) -> None:
    """Best effort after a failed `_vacate`: each step may not have happened."""
    steps: list[Callable[[], None]] = [
        partial(_disable, container.own, container.enabled_on_own),
        partial(write_pid, container.own / "cgroup.procs", container.pid),
    ]
    steps += [partial(remove_dir, path, attempts=5) for path in reversed(made)]
    for step in steps:
        try:
            step()
        except CgroupError:
            continue


def enable(group: Path, controllers: tuple[str, ...]) -> None:
    """Hand `controllers` down from `group` (one we may write: see the module's docstring)."""
    missing = [c for c in controllers if c not in enabled(group)]
    if missing:
        write_value(group / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))


def _disable(group: Path, controllers: tuple[str, ...]) -> None:
    present = [c for c in controllers if c in enabled(group)]
    if present:
        write_value(group / "cgroup.subtree_control", " ".join(f"-{c}" for c in present))


def _words(path: Path) -> set[str]:
    try:
        return {word.lstrip("+") for word in path.read_text().split()}
    except OSError:
        return set()
