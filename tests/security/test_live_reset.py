"""A reset under a live fleet: refused in one line, nothing deleted, until the fleet is gone.

`run` resets the uploader by default; if an `up --detach` fleet (or another run's) serves the
same state directory, its tasks would lose their files and rows in the middle of requests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rightsizer.config import Settings
from rightsizer.errors import RefusedError
from rightsizer.fleet.state import live_fleet
from rightsizer.process import start_time
from rightsizer.uploader.files import new_stored_name
from rightsizer.uploader.reset import reset
from tests.fleet.conftest import task_command

# A real supervisor (`rightsizer up` in the foreground, one uncapped task, no HAProxy), started
# as its own process: it holds what every supervisor holds while its tasks serve the state dir.
SUPERVISOR = """
import dataclasses, sys
from pathlib import Path
from rightsizer.fleet.spec import Balancing, FleetSpec
from rightsizer.fleet.supervisor import RunOptions, run_foreground
state_dir = Path(sys.argv[1])
spec = FleetSpec(workdir=state_dir / "fleet", balancing=Balancing.NONE,
                 command=tuple(sys.argv[2:]), cgroup_root=state_dir / "no-cgroups")
run_foreground(RunOptions(spec, state_dir), lambda document: print("up", flush=True))
"""
HOLDER = """
import sys, time
from pathlib import Path
from rightsizer.fleet.state import ServingMark
mark = ServingMark(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def stored(settings: Settings) -> Path:
    """A stored file in an initialised data dir: what a reset deletes."""
    reset(settings)
    path = settings.data_dir / new_stored_name()
    path.write_bytes(b"an upload")
    return path


@contextmanager
def _started(code: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """`code` in a process of its own, once it said it is up; SIGTERMed at the end."""
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() in ("up", "held"), "it did not start"
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        if process.stdout is not None:
            process.stdout.close()


def test_a_reset_under_a_live_supervisor_is_refused(settings: Settings, stored: Path) -> None:
    with _started(SUPERVISOR, str(settings.state_dir), *task_command()) as process:
        with pytest.raises(RefusedError, match="a fleet still serves") as refused:
            reset(settings)
        assert "\n" not in str(refused.value) and "rightsizer down" in str(refused.value)
        assert stored.exists()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    assert live_fleet(settings.state_dir) is None
    reset(settings)
    assert not stored.exists()


def test_a_state_file_naming_a_running_supervisor_refuses_a_reset(
    settings: Settings, stored: Path
) -> None:
    me = {"pid": os.getpid(), "pid_created": start_time(os.getpid()), "url": "http://x"}
    (settings.state_dir / "fleet.json").write_text(json.dumps(me))
    with pytest.raises(RefusedError, match=f"supervisor pid {os.getpid()} at http://x"):
        reset(settings)
    assert stored.exists()
    # The same pid with another start time is a recycled pid, not a fleet: reset goes ahead.
    (settings.state_dir / "fleet.json").write_text(json.dumps({**me, "pid_created": 1.0}))
    reset(settings)
    assert not stored.exists()


def test_the_fleet_of_another_run_holds_the_state_dir_too(settings: Settings, stored: Path) -> None:
    with _started(HOLDER, str(settings.state_dir)):
        with pytest.raises(RefusedError, match=r"serving\.lock"):
            reset(settings)
        assert stored.exists()
    assert live_fleet(settings.state_dir) is None  # the kernel dropped it with the process
    reset(settings)
    assert not stored.exists()


def test_a_dry_run_is_not_refused(settings: Settings, stored: Path) -> None:
    me = {"pid": os.getpid(), "pid_created": start_time(os.getpid())}
    (settings.state_dir / "fleet.json").write_text(json.dumps(me))
    assert reset(settings, dry_run=True).plan.files == (stored.name,)
