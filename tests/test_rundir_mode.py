"""A run directory is writable by its user alone whatever the umask: the run's own fleet
records live there, and rightsizer acts only on files only it could write."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rightsizer.private_path import check_private
from rightsizer.rundir import RunDir


def test_a_group_writable_umask_still_makes_a_private_run_directory(tmp_path: Path) -> None:
    before = os.umask(0o002)
    try:
        run = RunDir.create(tmp_path / "runs", "uploader")
    finally:
        os.umask(before)
    assert stat.S_IMODE(run.path.stat().st_mode) == 0o755
    check_private(run.path)  # no RefusedError
