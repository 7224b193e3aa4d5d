"""Checked-in cgroup trees (files standing for the kernel's), copied so tests may write them.

In a fixture tree the kernel's control files are plain files, which a real rmdir of a group
would not have to remove; `fixture_tree` makes rmdir behave as on cgroupfs inside the copies it
hands out (control files go with their directory, child directories still refuse), and only
there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rightsizer.cgroup import container
from rightsizer.cgroup.driver import ManagedDriver, open_driver, parent_name
from tests.parts import fail_without

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """`fixture_tree("v2")` -> a writable copy of tests/cgroup/fixtures/v2 (has sys/ and proc/)."""
    roots: list[Path] = []
    real_rmdir = os.rmdir

    def cgroupfs_rmdir(path: Any, *args: Any, **kwargs: Any) -> None:
        target = Path(os.fsdecode(path)) if not kwargs.get("dir_fd") else None
        if target is not None and any(target.is_relative_to(root / "sys") for root in roots):
            for child in target.iterdir():
                if child.is_file():
                    child.unlink()
        real_rmdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "rmdir", cgroupfs_rmdir)
    # Containers entered in one test must not be found by the next (same pid, new tree).
    monkeypatch.setattr(container, "_entered", {})

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        roots.append(target)
        return target

    return copy


@pytest.fixture
def real_driver() -> Iterator[ManagedDriver]:
    """A driver on this machine's real tree (skips without permission); closed afterwards."""
    choice = open_driver(Path("/sys/fs/cgroup"), parent_name())
    if not choice.capped:
        choice.driver.close()
        fail_without("cgroups", choice.warning)
    try:
        yield choice.driver
    finally:
        choice.driver.close()
        assert not any(p.exists() for p in choice.driver.parent_dirs())
