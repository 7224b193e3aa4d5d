"""`rightsizer serve` refused by the system: one line saying what to do, exit 2, no traceback.

A port in use, a privileged port for a user who is not root, a data directory the user may not
write. The last two run `rightsizer serve` as root without the capability that lets root
through (setpriv's bounding set), so the kernel itself refuses as it does for any other user
(uid 65534 itself cannot run a Python installed under /root). The same errors are also
injected at their seams (the bind, the data directory's scan), which needs no root.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.uploader import server
from rightsizer.uploader.files import DataDir, DirState

SERVE_S = 120  # the CLI imports every command group; slow on a busy machine
runner = CliRunner()
SETPRIV = shutil.which("setpriv")
without_caps = pytest.mark.skipif(
    os.geteuid() != 0 or SETPRIV is None,
    reason="needs root and setpriv(1), to drop a capability for one command",
)


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in stderr
    return lines[0]


def serve_without(
    capabilities: str, args: list[str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`rightsizer serve` as root without some capabilities: the kernel refuses as for a user."""
    assert SETPRIV is not None
    command = [SETPRIV, "--bounding-set", capabilities, sys.executable, "-m", "rightsizer"]
    command += ["serve", "--host", "127.0.0.1", *args]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=SERVE_S, check=False
    )


def test_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        flags = ["--db", f"sqlite:///{tmp_path / 'u.db'}", "--data-dir", str(tmp_path / "d")]
        result = runner.invoke(app, ["serve", "--port", str(port), *flags])
    assert result.exit_code == 2, result.output
    line = one_line_error(result.stderr)
    assert f"127.0.0.1:{port} is already in use" in line and "--port" in line
    assert not (tmp_path / "d").exists()  # refused before touching anything


def test_a_bind_refused_by_the_system_at_the_seam(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(_host: str, _port: int) -> socket.socket:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(server, "_bind", refused)
    flags = ["--db", f"sqlite:///{tmp_path / 'u.db'}", "--data-dir", str(tmp_path / "d")]
    result = runner.invoke(app, ["serve", "--port", "80", *flags])
    assert result.exit_code == 2, result.output
    assert "ports below 1024 need root" in one_line_error(result.stderr)


@without_caps
def test_a_privileged_port_for_a_user_who_is_not_root(tmp_path: Path) -> None:
    flags = ["--db", f"sqlite:///{tmp_path / 'u.db'}", "--data-dir", str(tmp_path / "d")]
    done = serve_without("-net_bind_service", ["--port", "80", *flags], tmp_path)
    assert done.returncode == 2, done.stderr
    line = one_line_error(done.stderr)
    assert "127.0.0.1:80: permission denied" in line and "--port 1024 or above" in line


@without_caps
def test_a_data_directory_without_permission(tmp_path: Path) -> None:
    closed = tmp_path / "read-only"
    closed.mkdir(mode=0o500)
    flags = ["--db", f"sqlite:///{tmp_path / 'u.db'}", "--data-dir", str(closed / "data")]
    done = serve_without("-dac_override,-dac_read_search", ["--port", "0", *flags], tmp_path)
    assert done.returncode == 2, done.stderr
    line = one_line_error(done.stderr)
    assert f"{closed / 'data'}: Permission denied" in line and "--data-dir" in line


def test_a_data_directory_without_permission_at_the_seam(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(_self: DataDir) -> DirState:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(DataDir, "state", denied)
    data = tmp_path / "data"
    flags = ["--db", f"sqlite:///{tmp_path / 'u.db'}", "--data-dir", str(data)]
    result = runner.invoke(app, ["serve", "--port", "0", *flags])
    assert result.exit_code == 2, result.output
    line = one_line_error(result.stderr)
    assert f"{data}: Permission denied" in line and "--data-dir" in line
