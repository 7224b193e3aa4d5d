"""Removing groups: a group that cannot go is an error naming it, never a silent leftover."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rightsizer.cgroup.driver import ManagedDriver
from rightsizer.cgroup.group import remove_dir, remove_tree
from rightsizer.cgroup.v1 import V1Group
from rightsizer.errors import CgroupError
from rightsizer.fleet.child import child_setup


def test_a_directory_with_files_is_refused_and_its_files_kept(tmp_path: Path) -> None:
    # cgroupfs never answers ENOTEMPTY for control files: a plain directory is not a group.
    group = tmp_path / "rightsizer-1-1"
    group.mkdir()
    (group / "notes.txt").write_text("mine")
    with pytest.raises(CgroupError, match=rf"cannot remove group {group}: it still holds"):
        remove_dir(group)
    assert (group / "notes.txt").read_text() == "mine"


def test_a_group_with_child_groups_is_refused(tmp_path: Path) -> None:
    (tmp_path / "parent" / "child").mkdir(parents=True)
    with pytest.raises(CgroupError, match="parent: it still holds other groups"):
        remove_dir(tmp_path / "parent")
    remove_tree(tmp_path / "parent")  # deepest first
    assert not (tmp_path / "parent").exists()
    remove_dir(tmp_path / "parent")  # already gone: fine


@pytest.mark.cgroups
def test_a_group_still_holding_a_process_is_an_error_naming_it(
    real_driver: ManagedDriver,
) -> None:
    group = real_driver.create("task-busy", 1.0, 64)
    assert isinstance(group, V1Group)
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        preexec_fn=child_setup(group.procs_files()),  # noqa: PLW1509 (joins before exec)
    )
    try:
        with pytest.raises(CgroupError, match=rf"{group.cpu_dir}: processes are still inside"):
            remove_dir(group.cpu_dir, attempts=3, pause=0.01)
        assert group.cpu_dir.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    group.remove()
    assert not group.cpu_dir.exists()
