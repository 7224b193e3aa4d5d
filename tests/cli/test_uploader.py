"""`rightsizer reset`, `verify` and `serve` from the command line: output and exit codes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.config import Settings, load_settings
from rightsizer.uploader.files import new_stored_name
from rightsizer.uploader.repair import SETTLE_AFTER_S
from tests.uploader.helpers import file_body, post_raw, serve_in_thread, stored_files

runner = CliRunner()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    flags = {"db": f"sqlite:///{tmp_path / 'db' / 'u.db'}", "data_dir": str(tmp_path / "data")}
    return load_settings(flags, env={}, cwd=tmp_path)


def flags(settings: Settings) -> list[str]:
    return ["--db", settings.db, "--data-dir", str(settings.data_dir)]


def fill(settings: Settings, count: int = 2) -> None:
    with serve_in_thread(settings) as live:
        for i in range(count):
            assert post_raw(live, file_body(b"content %d" % i)).status == 303


def test_verify_exit_codes_and_json_shape(settings: Settings) -> None:
    fill(settings)
    ok = runner.invoke(app, ["verify", "--json", *flags(settings)])
    assert ok.exit_code == 0, ok.output
    document = json.loads(ok.stdout)
    assert document == {
        "rows": 2,
        "files": 2,
        "missing_files": [],
        "orphan_files": [],
        "mismatched": [],
        "stale_partials": [],
        "quarantined_files": [],
        "consistent": True,
    }
    gone = stored_files(settings.data_dir)[0]
    (settings.data_dir / gone).unlink()
    bad = runner.invoke(app, ["verify", "--json", *flags(settings)])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["missing_files"] == [gone]
    human = runner.invoke(app, ["verify", *flags(settings)])
    assert human.exit_code == 1
    assert "2 rows, 1 files: NOT consistent" in human.stdout
    assert f"missing file: {gone}" in human.stdout


def test_reset_dry_run_changes_nothing(settings: Settings) -> None:
    fill(settings)
    before = sorted(p.name for p in settings.data_dir.iterdir())
    result = runner.invoke(app, ["reset", "--dry-run", *flags(settings)])
    assert result.exit_code == 0, result.output
    assert "2 files" in result.stdout and "dry run: nothing was changed" in result.stdout
    assert sorted(p.name for p in settings.data_dir.iterdir()) == before


def test_reset_asks_and_a_no_changes_nothing(settings: Settings) -> None:
    fill(settings)
    declined = runner.invoke(app, ["reset", *flags(settings)], input="n\n")
    assert declined.exit_code == 1
    assert declined.stderr.strip() == (
        "error: reset not confirmed; nothing was changed (pass --yes to skip the question)"
    )
    assert len(stored_files(settings.data_dir)) == 2
    no_input = runner.invoke(app, ["reset", *flags(settings)], input="")
    assert no_input.exit_code == 1
    assert len(stored_files(settings.data_dir)) == 2
    accepted = runner.invoke(app, ["reset", *flags(settings)], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "deleted 2 files" in accepted.stdout
    assert stored_files(settings.data_dir) == []


def test_reset_yes_does_not_ask(settings: Settings) -> None:
    fill(settings, 1)
    result = runner.invoke(app, ["reset", "--yes", *flags(settings)])
    assert result.exit_code == 0
    assert "Delete these files" not in result.stdout
    clean = runner.invoke(app, ["reset", "--yes", *flags(settings)])
    assert "already in the initial state" in clean.stdout


def test_reset_refuses_a_foreign_directory_in_one_line(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "photo.jpg").write_bytes(b"mine")
    result = runner.invoke(app, ["reset", "--yes", *flags(settings)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {settings.data_dir} has files but no .rightsizer-data")
    assert "--data-dir" in lines[0]
    assert (settings.data_dir / "photo.jpg").read_bytes() == b"mine"


def test_serve_refuses_a_foreign_directory_without_starting(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "photo.jpg").write_bytes(b"mine")
    result = runner.invoke(app, ["serve", "--port", "0", *flags(settings)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_names_an_unreachable_database(settings: Settings) -> None:
    bad = ["--db", "mysql+pymysql://root@127.0.0.1:1/x", "--data-dir", str(settings.data_dir)]
    result = runner.invoke(app, ["serve", "--port", "0", *bad])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: database mysql+pymysql://root@127.0.0.1:1/x")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_setting_names_its_flag(settings: Settings) -> None:
    result = runner.invoke(app, ["serve", "--max-upload-mb", "-1", *flags(settings)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --max-upload-mb: must be between")


def test_verify_repair_settles_what_a_crash_left(settings: Settings) -> None:
    fill(settings, 1)
    then = time.time() - 2 * SETTLE_AFTER_S
    orphan = settings.data_dir / new_stored_name()
    partial = settings.data_dir / f".incoming-{'a' * 32}.part"
    for path in (orphan, partial):
        path.write_bytes(b"left by a crash")
        os.utime(path, (then, then))
    found = runner.invoke(app, ["verify", *flags(settings)])
    assert found.exit_code == 1
    assert f"orphan file (no row): {orphan.name}" in found.stdout
    assert f"stale partial upload (a crash left it): {partial.name}" in found.stdout
    assert "verify --repair" in found.stdout
    repaired = runner.invoke(app, ["verify", "--repair", *flags(settings)])
    assert repaired.exit_code == 0, repaired.output
    assert "repair: removed 1 stale partial uploads, quarantined 1 orphan files" in repaired.stdout
    assert "1 rows, 1 files: consistent" in repaired.stdout
    assert not partial.exists() and not orphan.exists()
    again = runner.invoke(app, ["verify", "--repair", "--json", *flags(settings)])
    document = json.loads(again.stdout)
    assert document["consistent"] is True
    assert document["quarantined_files"] == [orphan.name.replace(".upload", ".orphan")]
    assert document["repaired"] == {"removed_partials": [], "quarantined": [], "left": []}
