"""Fleet fixtures: a small task command, fleets that are always stopped, and a check that no
group of this test process is left behind after any test (passed or failed)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rightsizer.cgroup.hierarchy import detect
from rightsizer.fleet.fleet import Fleet
from rightsizer.fleet.spec import FleetSpec

TASK_APP = Path(__file__).parent / "task_app.py"


def task_command(*extra: str) -> tuple[str, ...]:
    """The test task (`task_app.py`) on `{port}` with extra options (--burn, --spin)."""
    return (sys.executable, str(TASK_APP), "--port", "{port}", *extra)


def our_groups() -> list[Path]:
    """Groups named after this process under our own groups (there should be none left)."""
    try:
        hierarchy = detect(Path("/sys/fs/cgroup"))
    except Exception:  # noqa: BLE001 (no cgroups here: nothing can be left)
        return []
    prefix = f"rightsizer-{os.getpid()}-"
    return [p for own in hierarchy.own_dirs() for p in own.glob(prefix + "*")]


@pytest.fixture(autouse=True)
def no_groups_left() -> Iterator[None]:
    yield
    assert our_groups() == []


@pytest.fixture
def fleet_factory(tmp_path: Path) -> Iterator[Callable[..., Fleet]]:
    """`fleet_factory(tasks=2, command=task_command("--burn", "0.5"))` -> a started Fleet."""
    fleets: list[Fleet] = []

    def make(*, store: Any = None, **fields: Any) -> Fleet:
        fields.setdefault("workdir", tmp_path / f"fleet{len(fleets)}")
        fields.setdefault("command", task_command())
        fleet = Fleet(FleetSpec(**fields), store=store, ledger_dir=tmp_path / "ledger")
        fleets.append(fleet)
        return fleet.start()

    yield make
    for fleet in fleets:
        fleet.stop()
