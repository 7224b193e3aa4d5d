"""Checked-in cgroup trees (files standing for the kernel's), copied so tests may write them."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rightsizer.cgroup.driver import ManagedDriver, open_driver, parent_name

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_tree(tmp_path: Path) -> Callable[[str], Path]:
    """`fixture_tree("v2")` -> a writable copy of tests/cgroup/fixtures/v2 (has sys/ and proc/)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target

    return copy


@pytest.fixture
def real_driver() -> Iterator[ManagedDriver]:
    """A driver on this machine's real tree (skips without permission); closed afterwards."""
    choice = open_driver(Path("/sys/fs/cgroup"), parent_name())
    if not choice.capped:
        choice.driver.close()
        pytest.skip(f"no permission for cgroups here: {choice.warning}")
    try:
        yield choice.driver
    finally:
        choice.driver.close()
        assert not any(p.exists() for p in choice.driver.parent_dirs())
