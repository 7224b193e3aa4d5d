"""Files another local user could have written: refused in one line, nothing killed or written.

The attack of issue 11: another user makes the process ledger's directory first, world-writable,
and plants a record naming a victim process; the next `up`, `run`, `demo` or `down`, run as
root, would SIGKILL the victim. The same goes for the fleet's state file (its supervisor pid is
SIGTERMed by `down`), the state directory and its locks, and the socket directory.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.errors import RefusedError
from rightsizer.fleet.ledger import Ledger, default_directory, sweep_ledgers
from rightsizer.fleet.state import FleetLock, read_state
from rightsizer.fleet.supervisor import down
from rightsizer.private_path import check_private, private_directory, read_private
from rightsizer.process import start_time

SLEEP = [sys.executable, "-c", "import time; time.sleep(120)"]
NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")


@pytest.fixture
def victim() -> Iterator[subprocess.Popen[bytes]]:
    """A process that no rightsizer record of ours names: it must survive every test."""
    process = subprocess.Popen(SLEEP)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def _dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def _plant_ledger(directory: Path, victim: subprocess.Popen[bytes]) -> Path:
    """The attacker's record: a dead owner, the victim with its real start time."""
    directory.mkdir(parents=True, exist_ok=True)
    record = directory / f"rightsizer-{_dead_pid()}-1.json"
    created = start_time(victim.pid)
    processes = [{"pid": victim.pid, "created": created, "what": "task 1"}]
    record.write_text(json.dumps({"owner": _dead_pid(), "processes": processes}))
    return record


def _gone_fleet(state_dir: Path) -> None:
    """A state file whose supervisor is gone: `down` then only sweeps what it left."""
    state_dir.mkdir(parents=True, exist_ok=True)
    document = {"pid": _dead_pid(), "name": "rightsizer-1-1"}
    (state_dir / "fleet.json").write_text(json.dumps(document))


def _refused(message: str, path: Path) -> None:
    assert str(path) in message and "\n" not in message
    assert "only you can write" in message


def test_a_world_writable_ledger_directory_is_refused_and_nobody_is_killed(
    tmp_path: Path, victim: subprocess.Popen[bytes]
) -> None:
    state_dir = tmp_path / "state"
    ledgers = default_directory(state_dir)
    _plant_ledger(ledgers, victim)
    ledgers.chmod(0o777)
    _gone_fleet(state_dir)
    with pytest.raises(RefusedError, match="can be written by its group and others") as refused:
        down(state_dir, tmp_path / "no-cgroups")
    _refused(str(refused.value), ledgers)
    with pytest.raises(RefusedError):
        sweep_ledgers(ledgers)
    assert victim.poll() is None


@needs_root
def test_a_ledger_directory_of_another_user_is_refused_and_nothing_is_written(
    tmp_path: Path, victim: subprocess.Popen[bytes]
) -> None:
    ledgers = tmp_path / "state" / "processes"
    planted = _plant_ledger(ledgers, victim)
    os.chown(ledgers, NOBODY, NOBODY)
    with pytest.raises(RefusedError, match=f"owned by uid {NOBODY}"):
        sweep_ledgers(ledgers)
    with pytest.raises(RefusedError, match=f"owned by uid {NOBODY}"):
        Ledger(ledgers, "rightsizer-1-1")
    assert victim.poll() is None
    assert sorted(p.name for p in ledgers.iterdir()) == [planted.name]


@needs_root
def test_a_record_of_another_user_in_our_directory_is_refused(
    tmp_path: Path, victim: subprocess.Popen[bytes]
) -> None:
    ledgers = tmp_path / "processes"
    planted = _plant_ledger(ledgers, victim)
    os.chown(planted, NOBODY, NOBODY)
    with pytest.raises(RefusedError, match=f"{planted.name} is owned by uid {NOBODY}"):
        sweep_ledgers(ledgers)
    assert victim.poll() is None
    assert planted.exists()


def test_a_symlinked_record_or_directory_is_refused(
    tmp_path: Path, victim: subprocess.Popen[bytes]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    planted = _plant_ledger(elsewhere, victim)
    ledgers = tmp_path / "processes"
    ledgers.symlink_to(elsewhere)
    with pytest.raises(RefusedError, match="is a symbolic link"):
        sweep_ledgers(ledgers)
    ledgers.unlink()
    ledgers.mkdir()
    (ledgers / "rightsizer-9-9.json").symlink_to(planted)
    with pytest.raises(RefusedError, match="is a symbolic link"):
        sweep_ledgers(ledgers)
    assert victim.poll() is None


def test_the_ledger_is_kept_in_the_state_directory_not_in_tmp(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    directory = default_directory(state_dir)
    assert directory.parent == state_dir
    ledger = Ledger(directory, "rightsizer-1-1")
    ledger.record(os.getpid(), "itself")
    assert ledger.path.parent == directory and ledger.path.exists()
    assert directory.stat().st_mode & 0o777 == 0o700
    ledger.close()


@needs_root
def test_a_state_file_of_another_user_is_refused_and_its_pid_not_signalled(
    tmp_path: Path, victim: subprocess.Popen[bytes]
) -> None:
    state = tmp_path / "fleet.json"
    document = {
        "pid": victim.pid,
        "pid_created": start_time(victim.pid),
        "control_url": "http://127.0.0.1:9",
        "name": "rightsizer-1-1",
    }
    state.write_text(json.dumps(document))
    os.chown(state, NOBODY, NOBODY)
    with pytest.raises(RefusedError, match=f"owned by uid {NOBODY}") as refused:
        down(tmp_path, tmp_path / "no-cgroups", ledger_dir=tmp_path / "ledger")
    _refused(str(refused.value), state)
    with pytest.raises(RefusedError):
        read_state(state)
    assert victim.poll() is None
    assert state.exists()


def test_a_world_writable_state_directory_is_refused_by_down_and_up(
    tmp_path: Path, victim: subprocess.Popen[bytes]
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    document = {"pid": victim.pid, "pid_created": start_time(victim.pid), "name": "x"}
    (state_dir / "fleet.json").write_text(json.dumps(document))
    state_dir.chmod(0o777)
    with pytest.raises(RefusedError, match="can be written by its group and others"):
        down(state_dir, tmp_path / "no-cgroups", ledger_dir=tmp_path / "ledger")
    with pytest.raises(RefusedError, match="can be written by its group and others"):
        FleetLock(state_dir).acquire()
    assert victim.poll() is None
    assert not (state_dir / "fleet.lock").exists()


def test_rightsizer_down_refuses_a_planted_ledger_in_one_line(
    tmp_path: Path, victim: subprocess.Popen[bytes]
) -> None:
    state_dir = tmp_path / "state"
    ledgers = default_directory(state_dir)
    _plant_ledger(ledgers, victim)
    ledgers.chmod(0o777)
    _gone_fleet(state_dir)
    result = CliRunner().invoke(app, ["down"], env={"RIGHTSIZER_STATE_DIR": str(state_dir)})
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert str(ledgers) in result.stderr
    assert victim.poll() is None


def test_private_directory_is_made_0700_and_a_file_in_its_place_is_refused(
    tmp_path: Path,
) -> None:
    made = private_directory(tmp_path / "a" / "b")
    assert made.stat().st_mode & 0o777 == 0o700
    (tmp_path / "file").write_text("")
    with pytest.raises(RefusedError, match="is not a directory"):
        private_directory(tmp_path / "file")


def test_a_fifo_in_place_of_a_state_file_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fleet.json", 0o600)
    with pytest.raises(RefusedError, match="is not a regular file"):
        read_private(tmp_path / "fleet.json", 1024)


@needs_root
def test_a_socket_of_another_user_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "haproxy.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
        check_private(path)  # ours: accepted
        os.chown(path, NOBODY, NOBODY)
        with pytest.raises(RefusedError, match=f"owned by uid {NOBODY}"):
            check_private(path)


@needs_root
def test_a_directory_a_foreign_group_can_write_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "state"
    directory.mkdir()
    os.chown(directory, os.geteuid(), NOBODY)
    directory.chmod(0o770)
    with pytest.raises(RefusedError, match=r"can be written by its group \(mode 0770\)"):
        check_private(directory)
