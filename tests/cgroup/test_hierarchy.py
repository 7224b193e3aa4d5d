from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rightsizer.cgroup.hierarchy import UNIFIED, CgroupVersion, detect
from rightsizer.errors import CgroupError


def test_v2_own_group_comes_from_proc_pid_cgroup(fixture_tree: Callable[[str], Path]) -> None:
    root = fixture_tree("v2")
    hierarchy = detect(root / "sys/fs/cgroup", root / "proc", 4242)
    assert hierarchy.version is CgroupVersion.V2
    assert hierarchy.dirs == {UNIFIED: root / "sys/fs/cgroup/user.slice/app.scope"}


def test_v1_with_a_mount_exposing_a_subtree(fixture_tree: Callable[[str], Path]) -> None:
    # The mounts' root is /kubepods/pod1, so /kubepods/pod1/ctr lives at <mount>/ctr.
    root = fixture_tree("v1-nested")
    hierarchy = detect(root / "sys/fs/cgroup", root / "proc", 77)
    joint = root / "sys/fs/cgroup/cpu,cpuacct/ctr"
    assert hierarchy.version is CgroupVersion.V1
    assert hierarchy.dirs == {
        "cpu": joint,
        "cpuacct": joint,
        "memory": root / "sys/fs/cgroup/memory/ctr",
    }
    assert hierarchy.own_dirs() == (joint, root / "sys/fs/cgroup/memory/ctr")


def test_a_group_outside_the_mounted_tree_is_refused(fixture_tree: Callable[[str], Path]) -> None:
    root = fixture_tree("v1-nested")
    (root / "proc/77/cgroup").write_text("4:memory:/elsewhere\n2:cpu,cpuacct:/kubepods/pod1/c\n")
    with pytest.raises(CgroupError, match="outside the mounted tree"):
        detect(root / "sys/fs/cgroup", root / "proc", 77)


def test_missing_controller_and_missing_proc_are_cgroup_errors(tmp_path: Path) -> None:
    (tmp_path / "proc/5").mkdir(parents=True)
    (tmp_path / "proc/5/cgroup").write_text("4:memory:/\n")
    (tmp_path / "cg/memory").mkdir(parents=True)
    with pytest.raises(CgroupError, match="cpu controller is not mounted"):
        detect(tmp_path / "cg", tmp_path / "proc", 5)
    with pytest.raises(CgroupError, match="cannot read"):
        detect(tmp_path / "cg", tmp_path / "proc", 6)


@pytest.mark.cgroups  # reads the real cgroup tree
def test_this_machine_is_detected_from_its_own_proc() -> None:
    hierarchy = detect(Path("/sys/fs/cgroup"))
    for path in hierarchy.own_dirs():
        assert (path / "cgroup.procs").exists()
