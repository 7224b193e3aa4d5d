"""The run's checks that need no Locust: locustfile paths, worker counts, scenario variables."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rightsizer.errors import UsageError
from rightsizer.load.execution import RunRequest, scenario_environment
from rightsizer.load.locustfile import check_path
from rightsizer.load.plan import RunPlan
from rightsizer.scenarios import UPLOADER


def test_check_path(tmp_path: Path) -> None:
    assert check_path(UPLOADER) == UPLOADER
    with pytest.raises(UsageError, match=r"^-f: no such file: .*nope\.py"):
        check_path(tmp_path / "nope.py")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(UsageError, match=r"is not a \.py file"):
        check_path(tmp_path / "notes.txt")
    with pytest.raises(UsageError, match="no such file"):
        check_path(tmp_path)


@pytest.mark.parametrize(
    ("changes", "flag"),
    [({"workers": -1}, "--workers"), ({"workers": 65}, "--workers"),
     ({"expect_workers": -2}, "--expect-workers"), ({"master_bind_port": 70000}, "--master")],
)  # fmt: skip
def test_request_checks(settings: Any, changes: dict[str, Any], flag: str) -> None:
    request = replace(RunRequest(UPLOADER, RunPlan.build("1", 5), settings), **changes)
    with pytest.raises(UsageError, match=f"^{flag}"):
        request.check()


def test_scenario_environment_keeps_what_shapes_the_load() -> None:
    env = {"RIGHTSIZER_UPLOAD_KB": "50", "LOCUST_HOST": "x", "HOME": "/root", "RIGHTSIZER_DB": "y"}
    assert scenario_environment(env) == {"LOCUST_HOST": "x", "RIGHTSIZER_UPLOAD_KB": "50"}


def test_the_command_line_does_not_import_locust() -> None:
    code = (
        "import sys, rightsizer.cli, rightsizer.cli.run, rightsizer.load.execution\n"
        "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
