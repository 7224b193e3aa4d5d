"""Which cgroup version this machine runs, and where this process's own groups are.

Groups rightsizer creates are nested under the group the current process is in *for that
controller* (read from `/proc/<pid>/cgroup`), so a tool run inside a container, a systemd slice or
a sandbox never touches groups that belong to someone else:

    hierarchy = detect(Path("/sys/fs/cgroup"), Path("/proc"), os.getpid())
    hierarchy.dirs["memory"]   # e.g. /sys/fs/cgroup/memory/process_api/2c69...

A controller's mount may expose a sub-tree only (its root in `/proc/<pid>/mountinfo` is not "/"):
the path from `/proc/<pid>/cgroup` is then taken relative to that root.

On v2 a process in the `supervisor` leaf of a `rightsizer-<pid>` container (see
`rightsizer.cgroup.container`) nests its groups in that container, beside the leaf: the
container is its own group here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath

from rightsizer.errors import CgroupError

V1_CONTROLLERS = ("cpu", "cpuacct", "memory")
UNIFIED = "unified"
SUPERVISOR_LEAF = "supervisor"
_CONTAINER = re.compile(r"^rightsizer-\d+$")


class CgroupVersion(Enum):
    V1 = 1
    V2 = 2


@dataclass(frozen=True)
class Hierarchy:
    """The directories of this process's own groups: per controller (v1) or `unified` (v2)."""

    version: CgroupVersion
    root: Path
    dirs: Mapping[str, Path]

    def own_dirs(self) -> tuple[Path, ...]:
        """Each distinct directory once (cpu and cpuacct may share one mount)."""
        seen: dict[Path, None] = {}
        for path in self.dirs.values():
            seen.setdefault(path, None)
        return tuple(seen)


def detect(
    cgroup_root: Path, proc_root: Path = Path("/proc"), pid: int | str = "self"
) -> Hierarchy:
    """Read the version and this process's group directories; CgroupError when unreadable."""
    memberships = _memberships(proc_root / str(pid) / "cgroup")
    mount_roots = _mount_roots(proc_root / str(pid) / "mountinfo")
    if (cgroup_root / "cgroup.controllers").is_file():
        path = memberships.get("")
        if path is None:
            raise CgroupError(f"{proc_root}/{pid}/cgroup has no v2 entry (0::/...)")
        own = _below(cgroup_root, mount_roots.get(UNIFIED, "/"), path)
        return Hierarchy(CgroupVersion.V2, cgroup_root, {UNIFIED: outside_leaf(own)})
    dirs: dict[str, Path] = {}
    for controller in V1_CONTROLLERS:
        path = memberships.get(controller)
        if path is None:
            raise CgroupError(f"the {controller} controller is not mounted (v1); cannot cap tasks")
        mount = _controller_mount(cgroup_root, controller)
        dirs[controller] = _below(mount, mount_roots.get(controller, "/"), path)
    return Hierarchy(CgroupVersion.V1, cgroup_root, dirs)


def outside_leaf(own: Path) -> Path:
    """The container when `own` is a rightsizer container's `supervisor` leaf, else `own`."""
    if own.name == SUPERVISOR_LEAF and _CONTAINER.match(own.parent.name):
        return own.parent
    return own


def _memberships(path: Path) -> dict[str, str]:
    """controller -> group path; the v2 line `0::/x` is under the key ""."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise CgroupError(f"cannot read {path} ({exc.strerror})") from None
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, group = parts
        if not controllers:
            out[""] = group
        for name in controllers.split(","):
            if name:
                out.setdefault(name, group)
    return out


def _mount_roots(path: Path) -> dict[str, str]:
    """controller (or `unified`) -> the root of the tree its mount exposes; missing file: {}."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    roots: dict[str, str] = {}
    for line in lines:
        fields = line.split()
        if "-" not in fields:
            continue
        dash = fields.index("-")
        fstype, options = fields[dash + 1], fields[dash + 3] if len(fields) > dash + 3 else ""
        if fstype == "cgroup2":
            roots.setdefault(UNIFIED, fields[3])
        elif fstype == "cgroup":
            for option in options.split(","):
                roots.setdefault(option, fields[3])
    return roots


def _controller_mount(cgroup_root: Path, controller: str) -> Path:
    """The v1 mount directory holding `controller` (`cpu`, or a joint one like `cpu,cpuacct`)."""
    direct = cgroup_root / controller
    if direct.is_dir():
        return direct
    try:
        entries = sorted(cgroup_root.iterdir())
    except OSError as exc:
        raise CgroupError(f"cannot list {cgroup_root} ({exc.strerror})") from None
    for entry in entries:
        if entry.is_dir() and controller in entry.name.split(","):
            return entry
    raise CgroupError(f"no mount for the {controller} controller under {cgroup_root}")


def _below(mount: Path, mount_root: str, group: str) -> Path:
    """The directory of `group` inside a mount that exposes the tree from `mount_root`."""
    try:
        relative = PurePosixPath(group).relative_to(PurePosixPath(mount_root))
    except ValueError:
        raise CgroupError(
            f"own group {group} is outside the mounted tree {mount_root}; cannot nest under it"
        ) from None
    return mount.joinpath(*relative.parts)
