"""Choosing the driver: capped when the tree is writable, uncapped with one warning otherwise."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rightsizer.cgroup.driver import open_driver, parent_name
from rightsizer.cgroup.uncapped import UncappedDriver

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _without_dac_override() -> None:
    """In the child: root without the capability to ignore file permissions (as a user)."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)


def _read_only(path: Path) -> None:
    for top, dirs, files in os.walk(path):
        for name in files:
            Path(top, name).chmod(0o444)
        for name in dirs:
            Path(top, name).chmod(0o555)
    path.chmod(0o555)


def test_read_only_tree_gives_uncapped_with_a_permission_warning(
    fixture_tree: Callable[[str], Path],
) -> None:
    root = fixture_tree("v1-nested")
    _read_only(root / "sys")
    probe = (
        "import json, sys\nfrom pathlib import Path\n"
        "from rightsizer.cgroup.driver import open_driver\n"
        "root = Path(sys.argv[1])\n"
        "c = open_driver(root / 'sys/fs/cgroup', 'rightsizer-77-1', root / 'proc', 77)\n"
        "print(json.dumps({'capped': c.capped, 'warning': c.warning}))\n"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", probe, str(root)],
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=_without_dac_override if os.geteuid() == 0 else None,
        )
    finally:
        for top, dirs, _ in os.walk(root):
            for name in dirs:
                Path(top, name).chmod(0o755)
    answer = json.loads(result.stdout)
    assert answer["capped"] is False
    assert "UNCAPPED" in answer["warning"]
    assert "Permission denied" in answer["warning"]
    assert "against the reservation" in answer["warning"]
    assert not (root / "sys/fs/cgroup/memory/ctr/rightsizer-77-1").exists()


def test_unreadable_tree_gives_the_uncapped_driver(tmp_path: Path) -> None:
    choice = open_driver(tmp_path / "nothing", parent_name(), tmp_path / "proc", 1)
    assert isinstance(choice.driver, UncappedDriver)
    assert choice.version is None
    assert choice.warning is not None
    assert choice.warning.count("UNCAPPED") == 1


def test_partial_parent_groups_are_removed_when_prepare_fails(
    fixture_tree: Callable[[str], Path],
) -> None:
    root = fixture_tree("v1-nested")
    memory_own = root / "sys/fs/cgroup/memory/ctr"
    shutil.rmtree(memory_own)
    memory_own.write_text("not a directory")  # the second mkdir fails
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-77-5", root / "proc", 77)
    assert not choice.capped
    assert not (root / "sys/fs/cgroup/cpu,cpuacct/ctr/rightsizer-77-5").exists()
