"""Every settings key has its flag on every command that reads it, and each flag arrives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from rightsizer.cli import app
from rightsizer.config import FLEET_KEYS, KEYS, UPLOADER_KEYS, env_name, flag_name

COMMANDS = typer.main.get_command(app)
# What each command reads; a command reading a key without its flag fails here.
READS = {
    "run": KEYS,
    "up": KEYS,
    "demo": tuple(k for k in FLEET_KEYS if k != "tasks"),  # --tasks: its second fleet
    "serve": (*UPLOADER_KEYS, "port"),
    "reset": ("state_dir", "db", "data_dir"),
    "verify": ("state_dir", "db", "data_dir"),
    "down": ("state_dir", "cgroup_root"),
    "status": ("state_dir",),
}


def _flags(name: str) -> set[str]:
    command = COMMANDS.commands[name]  # type: ignore[attr-defined]  # a group, as Typer builds it
    return {opt for p in command.params for opt in p.opts}


@pytest.mark.parametrize("name", sorted(READS))
def test_each_key_a_command_reads_has_its_flag(name: str) -> None:
    missing = {flag_name(k) for k in READS[name]} - _flags(name)
    assert not missing, f"{name} lacks {sorted(missing)}"


def test_every_key_reaches_the_fleet_commands() -> None:
    assert set(FLEET_KEYS) == set(KEYS)


def _rightsizer(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rightsizer", *args],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "RIGHTSIZER_STATE_DIR": str(tmp_path / "s"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", ["up", "run", "demo"])
@pytest.mark.parametrize("source", ["flag", "env", "file"])
def test_a_bad_health_path_is_named_in_one_line_from_every_source(
    tmp_path: Path, command: str, source: str
) -> None:
    """`--health-path`, RIGHTSIZER_HEALTH_PATH and `health_path` all reach up, run and demo;
    the value is checked before anything starts (no fleet, no traceback)."""
    bad = "/é"
    args: list[str] = [command]
    env: dict[str, str] = {}
    if source == "flag":
        args += ["--health-path", bad]
        named = "--health-path"
    elif source == "env":
        env[env_name("health_path")] = bad
        named = env_name("health_path")
    else:
        (tmp_path / "rightsizer.toml").write_text(f'health_path = "{bad}"\n', encoding="utf-8")
        named = "rightsizer.toml: health_path"
    if command == "run":
        args += ["--users", "1", "--step-time", "1"]
    done = _rightsizer(tmp_path, *args, **env)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {named}: expected an ASCII path"), line
    assert not (tmp_path / "runs").exists()


def test_the_detached_supervisor_gets_every_resolved_value_but_the_database_url() -> None:
    from rightsizer.cli.fleet import _child_argv, _child_env
    from rightsizer.config import load_settings

    settings = load_settings(
        {"health_path": "/up", "sample_interval": 2.5, "db": "mysql+pymysql://u:secret@h/d"},
        env={},
        cwd=Path("/tmp"),
    )
    argv = _child_argv(settings, None, None)
    given = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert given["--health-path"] == "/up" and given["--sample-interval"] == "2.5"
    assert set(given) == {flag_name(k) for k in KEYS if k not in ("db", "task_cmd")}
    assert "secret" not in " ".join(argv)
    assert _child_env(settings)[env_name("db")] == settings.db  # by the environment instead
    assert env_name("db") not in os.environ or os.environ[env_name("db")] != settings.db
