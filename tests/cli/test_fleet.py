"""`rightsizer status` and `down` facing broken state files and odd supervisors: one line each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.rundir import write_json
from tests.replies import serve_replies

_REPLIES = {
    "/text/status": b"<html>not json</html>",
    "/shape/status": b'{"url": "http://127.0.0.1:1", "tasks": "none"}',
    "/partial/status": b'{"tasks": [{"id": 1}, 7], "stopped_tasks": [{"id": 2}, "x"]}',
}


@pytest.fixture
def supervisor() -> Iterator[str]:
    with serve_replies({path: (200, body) for path, body in _REPLIES.items()}) as url:
        yield url


def _invoke(state_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"RIGHTSIZER_STATE_DIR": str(state_dir)})
    return result.exit_code, result.stdout, result.stderr


def _one_line_error(stderr: str) -> str:
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    return stderr


def test_a_reply_that_is_not_json_is_a_one_line_error(supervisor: str, tmp_path: Path) -> None:
    write_json(tmp_path / "fleet.json", {"pid": 1, "control_url": f"{supervisor}/text"})
    code, _, stderr = _invoke(tmp_path, "status")
    assert code == 1
    assert "sent no JSON object at" in _one_line_error(stderr)


def test_a_reply_without_a_task_list_is_a_one_line_error(supervisor: str, tmp_path: Path) -> None:
    write_json(tmp_path / "fleet.json", {"pid": 1, "control_url": f"{supervisor}/shape"})
    code, _, stderr = _invoke(tmp_path, "status", "--json")
    assert code == 1 and "sent no task list" in _one_line_error(stderr)


def test_missing_fields_show_as_dashes(supervisor: str, tmp_path: Path) -> None:
    write_json(tmp_path / "fleet.json", {"pid": 1, "control_url": f"{supervisor}/partial"})
    code, stdout, stderr = _invoke(tmp_path, "status")
    assert code == 0, stderr
    assert "healthy hosts: None" in stdout
    assert "task 2 stopped: None" in stderr


@pytest.mark.parametrize(
    "content",
    [b"{broken", b"[]", b'{"control_url": 5}', b'{"control_url": "http://example.org/"}'],
)
def test_a_broken_state_file_is_a_one_line_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "fleet.json").write_bytes(content)
    code, _, stderr = _invoke(tmp_path, "status")
    assert code == 1
    _one_line_error(stderr)


def test_down_with_a_state_file_naming_no_pid_exits_2(tmp_path: Path) -> None:
    (tmp_path / "fleet.json").write_text(json.dumps({"pid": [1], "tasks": 3}))
    code, _, stderr = _invoke(tmp_path, "down")
    assert code == 2
    assert "names no supervisor pid" in _one_line_error(stderr)
