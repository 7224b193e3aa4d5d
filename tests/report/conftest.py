"""Report tests work on private copies of the two recorded runs in fixtures/ (see its README)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def one_task(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "run-1-task", tmp_path / "run-1-task"))


@pytest.fixture
def four_tasks(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "run-4-tasks", tmp_path / "run-4-tasks"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the 1-task run with its report written, shared by read-only tests."""
    from rightsizer.report.html import write_report

    run = Path(shutil.copytree(FIXTURES / "run-1-task", tmp_path_factory.mktemp("built") / "run"))
    write_report(run)
    return run
