"""What a task sees of the supervisor's environment: everything but rightsizer's secrets."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from rightsizer.fleet.environment import SECRET_VARIABLES, child_environment
from rightsizer.fleet.fleet import Fleet
from rightsizer.fleet.spec import Balancing
from tests.fleet.conftest import task_command


def test_secrets_are_removed_and_the_spec_adds_its_own() -> None:
    base = {"PATH": "/bin", "RIGHTSIZER_WEB_AUTH": "admin:hunter2"}
    env = child_environment(base, {"RIGHTSIZER_DB": "sqlite:///x"})
    assert env == {"PATH": "/bin", "RIGHTSIZER_DB": "sqlite:///x"}
    assert "RIGHTSIZER_WEB_AUTH" in SECRET_VARIABLES


def test_a_task_does_not_inherit_the_web_password(
    fleet_factory: Callable[..., Fleet], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIGHTSIZER_WEB_AUTH", "admin:hunter2")
    monkeypatch.setenv("RIGHTSIZER_TEST_VISIBLE", "yes")
    seen = tmp_path / "task.env"
    script = f"env > {shlex.quote(str(seen))} && exec {shlex.join(task_command())}"
    fleet_factory(balancing=Balancing.NONE, command=("sh", "-c", script))
    lines = seen.read_text().splitlines()
    assert "RIGHTSIZER_TEST_VISIBLE=yes" in lines
    assert not any(line.startswith("RIGHTSIZER_WEB_AUTH=") for line in lines)
