"""A Locust master reachable from other machines: Locust's worker protocol has no
authentication, so anyone who reaches the port can join as a worker. The run says so."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from rightsizer.fleet.ports import LOOPBACK
from rightsizer.load.workers import master_bind_warning
from tests.load import conftest as load
from tests.load.conftest import Target, clean_env, rightsizer_command

target = load.target  # the fixture: a real HTTP target in a thread

UNREACHABLE = "192.0.2.1"  # TEST-NET-1: no interface of this machine has it, so no bind


@pytest.mark.parametrize("host", ["0.0.0.0", "*", "", "::", "10.0.0.5", "master.example"])
def test_an_address_beyond_this_machine_gets_a_warning(host: str) -> None:
    warning = master_bind_warning(host)
    assert warning is not None and warning.startswith("warning: --master-bind-host")
    assert "no authentication" in warning and "\n" not in warning


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_gets_none(host: str) -> None:
    assert master_bind_warning(host) is None


def _run(
    tmp_path: Path, target: Target, host: str, port: int = 0, *extra: str
) -> subprocess.CompletedProcess[str]:
    args = ["--workers", "1", "--master-bind-host", host, "--master-bind-port", str(port), *extra]
    return subprocess.run(
        rightsizer_command(
            "run", "--host", target.url, "--users", "1", "--step-time", "1", "--cooldown", "0",
            "--no-report", *args, "--out", str(tmp_path / "runs"),
        ),
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.locust
def test_the_run_warns_on_stderr_and_a_failed_bind_is_one_line(
    tmp_path: Path, target: Target
) -> None:
    # An address of no interface here: the warning comes before the bind, which then fails,
    # so nothing listens beyond this machine during the test.
    done = _run(tmp_path, target, UNREACHABLE, 0, "--allow-remote-workers")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert [line for line in lines if "no authentication" in line] == [
        master_bind_warning(UNREACHABLE)
    ]
    assert lines[-1].startswith("error: --master-bind-host: the master cannot listen there")
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.locust
def test_loopback_gives_no_warning(tmp_path: Path, target: Target) -> None:
    with socket.socket() as busy:  # the bind fails: the test ends before any load
        busy.bind((LOOPBACK, 0))
        busy.listen()
        done = _run(tmp_path, target, LOOPBACK, busy.getsockname()[1])
    assert done.returncode == 2, done.stderr
    assert "no authentication" not in done.stderr
    assert "error: --master-bind-host: the master cannot listen there" in done.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", UNREACHABLE])
def test_a_master_beyond_loopback_without_the_flag_is_refused_before_anything_starts(
    tmp_path: Path, target: Target, host: str
) -> None:
    done = _run(tmp_path, target, host)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error: --master-bind-host: {host} is reachable from other machines and Locust's "
        "worker protocol has no authentication; add --allow-remote-workers (a trusted network "
        "only) or bind 127.0.0.1"
    ]
    assert not (tmp_path / "runs").exists()  # refused before the run directory, the workers
    assert target.counts.requests == 0
