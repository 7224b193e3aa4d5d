"""`--reset-cmd`: the user's cleanup before the load, its output in the run directory, and a
failure that stops the run before any request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rightsizer.errors import RightsizerError
from rightsizer.load.reset_command import run_reset_command
from rightsizer.process import running
from tests.load.conftest import Target
from tests.waiting import poll_until


def test_the_output_goes_to_the_log(tmp_path: Path) -> None:
    log = tmp_path / "reset.log"
    facts = run_reset_command("echo emptied EFS; echo tables recreated >&2", log)
    assert log.read_text().splitlines() == ["emptied EFS", "tables recreated"]
    assert facts["exit_code"] == 0 and facts["log"] == "reset.log"


def test_a_failing_command_raises_with_its_last_words(tmp_path: Path) -> None:
    log = tmp_path / "reset.log"
    with pytest.raises(RightsizerError, match=r"--reset-cmd exited 3 before any load: no EFS"):
        run_reset_command("echo starting; echo no EFS; exit 3", log)


def test_a_cancelled_command_is_stopped_with_what_it_started(tmp_path: Path) -> None:
    """Cancelled once the script has started a child of its own: both end, not only the
    shell (a script's `aws s3 rm` must not outlive a Ctrl-C)."""
    child = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {child}.tmp; mv {child}.tmp {child}; wait"
    with pytest.raises(KeyboardInterrupt):
        run_reset_command(script, tmp_path / "log", cancelled=child.exists)
    pid = int(child.read_text())
    poll_until(lambda: not running(pid), 10, "the script's own child ended")


@pytest.mark.slow
@pytest.mark.locust
def test_a_failing_reset_stops_the_run_before_any_load(
    run_cli: Any, target: Target, tmp_path: Path
) -> None:
    finished = run_cli(
        "--host", target.url, "--users", "1", "--step-time", "2", "--cooldown", "0",
        "--reset-cmd", "echo dropping tables; exit 4",
    )  # fmt: skip
    assert finished.returncode == 1
    assert "--reset-cmd exited 4" in finished.stderr
    assert target.counts.requests == 1  # the --host check's one GET; no load
    assert target.counts.saves == 0
    run_dir = finished.run_dir()
    assert (run_dir / "reset-cmd.log").read_text() == "dropping tables\n"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert "--reset-cmd exited 4" in manifest["error"]
