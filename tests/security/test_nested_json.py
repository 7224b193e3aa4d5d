"""JSON nested deeper than Python's recursion limit: one line, never a RecursionError traceback.

`json.loads` raises RecursionError, not a ValueError, on `[[[[...]]]]` a few thousand levels
deep; an alarm file, a fleet's state file or a process record like that must be refused (or,
for a record, skipped) like any other bad JSON.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.errors import UsageError
from rightsizer.fleet.ledger import Ledger, sweep_ledgers
from rightsizer.fleet.state import load_state, read_state
from rightsizer.fleet.supervisor import down
from rightsizer.json_document import loads, parse_json_document, read_json_document

DEPTH = 100_000
DEEP = "[" * DEPTH + "]" * DEPTH
DEEP_OBJECT = '{"a": ' * DEPTH + "1" + "}" * DEPTH
SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


def _one_line(stderr: str) -> str:
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    return stderr


def test_the_shared_reader_turns_nesting_into_one_line(tmp_path: Path) -> None:
    for text in (DEEP, DEEP_OBJECT):
        with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
            loads(text)
        with pytest.raises(UsageError, match=r"^doc: not valid JSON \(nested too deeply"):
            parse_json_document(text, "doc")
    path = tmp_path / "doc.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(UsageError, match="not valid JSON"):
        read_json_document(path, "the document")
    with pytest.raises(UsageError, match="cannot read it"):
        read_json_document(tmp_path / "missing.json", "the document")
    assert read_json_document(_write(tmp_path / "ok.json", '{"a": [1]}'), "x") == {"a": [1]}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_alarm_evaluate_on_a_deeply_nested_file_exits_2_in_one_line(tmp_path: Path) -> None:
    alarm = _write(tmp_path / "alarm.json", DEEP)
    points = _write(tmp_path / "points.csv", "timestamp,value\n2026-11-27T14:03:10Z,30\n")
    result = CliRunner().invoke(
        app, ["alarm", "evaluate", "--alarm", str(alarm), "--datapoints", str(points)]
    )
    assert result.exit_code == 2, result.output
    assert "nested too deeply" in _one_line(result.stderr)


def test_a_deeply_nested_state_file_is_one_line_for_down(tmp_path: Path) -> None:
    _write(tmp_path / "fleet.json", DEEP_OBJECT)
    assert read_state(tmp_path / "fleet.json") is None
    with pytest.raises(UsageError, match="nested too deeply"):
        load_state(tmp_path / "fleet.json")
    with pytest.raises(UsageError, match="nested too deeply") as refused:
        down(tmp_path, tmp_path / "no-cgroups", ledger_dir=tmp_path / "ledger")
    assert refused.value.exit_code == 2 and "\n" not in str(refused.value)
    result = CliRunner().invoke(app, ["down"], env={"RIGHTSIZER_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 2, result.output
    _one_line(result.stderr)


def test_a_deeply_nested_process_record_is_skipped_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rightsizer")
    leftover = subprocess.Popen(SLEEP)
    try:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        _write(tmp_path / "rightsizer-1-1.json", DEEP_OBJECT)
        good = Ledger(tmp_path, f"rightsizer-{dead.pid}-2", owner_pid=dead.pid)
        good.record(leftover.pid, "task 1")
        assert [e.what for e in sweep_ledgers(tmp_path)] == ["task 1"]
        assert leftover.wait(timeout=10) == -9
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1 and "rightsizer-1-1.json" in warnings[0]
    finally:
        leftover.kill()
        leftover.wait()
