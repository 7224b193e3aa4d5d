"""Targets: a host is checked up front; a fleet is `rightsizer up` with the run's settings."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from rightsizer.config import Settings
from rightsizer.errors import UsageError
from rightsizer.load.target import HostTarget, fleet_command, fleet_environment
from tests.load.target_app import serve_in_thread


def test_a_host_that_answers_http_is_accepted() -> None:
    server, _, url = serve_in_thread()
    try:
        assert HostTarget.check(url + "/").url == url
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("url", ["ftp://example.org", "127.0.0.1:8080", "http://"])
def test_not_an_http_url(url: str) -> None:
    with pytest.raises(UsageError, match=r"^--host: .* is not an http\(s\) URL"):
        HostTarget.check(url)


def test_nothing_listening() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(UsageError, match=r"cannot reach .*start the service or fix the URL"):
        HostTarget.check(f"http://127.0.0.1:{port}", timeout=2)


def test_fleet_command_and_environment(settings_factory: Any, tmp_path: Path) -> None:
    settings: Settings = settings_factory(tasks=4, cpu=0.5, port=0, task_cmd="app {port}")
    command = fleet_command(settings, tmp_path)
    assert command[:4] == [sys.executable, "-m", "rightsizer", "up"]
    joined = " ".join(command)
    assert "--tasks 4 --cpu 0.5 --memory 512 --port 0 --lb roundrobin" in joined
    assert command[command.index("--task-cmd") + 1] == "app {port}"
    assert command[-4:] == [
        "--metrics-db",
        str(tmp_path / "metrics.db"),
        "--state-file",
        str(tmp_path / "fleet.json"),
    ]
    env = fleet_environment(settings, {"PATH": "/bin", "RIGHTSIZER_DB": "old"})
    assert env["PATH"] == "/bin"
    assert env["RIGHTSIZER_DB"] == settings.db  # the run's resolved value wins
    assert env["RIGHTSIZER_DATA_DIR"] == str(settings.data_dir)
    assert "RIGHTSIZER_TASKS" not in env  # passed as a flag
