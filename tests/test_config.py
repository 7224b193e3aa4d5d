from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rightsizer.config import load_settings
from rightsizer.errors import ConfigError


def test_defaults_live_under_the_state_dir(tmp_path: Path) -> None:
    s = load_settings(env={}, cwd=tmp_path)
    assert s.state_dir == tmp_path / ".rightsizer"
    assert s.data_dir == tmp_path / ".rightsizer" / "data"
    assert s.db == f"sqlite:///{tmp_path / '.rightsizer' / 'uploader.db'}"
    assert (s.tasks, s.cpu, s.memory, s.lb) == (1, 0.25, 512, "roundrobin")
    assert s.max_upload_bytes == 10 * 1024 * 1024


def test_flags_beat_env_beat_file_beat_defaults(tmp_path: Path) -> None:
    (tmp_path / "rightsizer.toml").write_text(
        'tasks = 2\ncpu = 0.5\nmemory = 256\nlb = "leastconn"\n'
    )
    env = {"RIGHTSIZER_CPU": "1.0", "RIGHTSIZER_MEMORY": "1024"}
    s = load_settings({"memory": 2048, "tasks": None}, env=env, cwd=tmp_path)
    assert s.memory == 2048  # flag
    assert s.cpu == 1.0  # env
    assert s.tasks == 2  # file (the flag was not given)
    assert s.lb == "leastconn"  # file
    assert s.keepalive == 75.0  # default


def test_relative_paths_in_the_file_are_relative_to_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "x.toml").write_text('data_dir = "files"\n')
    s = load_settings(env={}, config_file=conf / "x.toml", cwd=tmp_path)
    assert s.data_dir == conf / "files"


@pytest.mark.parametrize(
    ("source", "expected_key"),
    [
        ({"env": {"RIGHTSIZER_TASKS": "many"}}, "RIGHTSIZER_TASKS"),
        ({"env": {"RIGHTSIZER_LB": "random"}}, "RIGHTSIZER_LB"),
        ({"flags": {"cpu": -1}}, "--cpu"),
        ({"file": "tasks = 0\n"}, "rightsizer.toml: tasks"),
        ({"file": "taks = 2\n"}, "rightsizer.toml: taks"),
        ({"file": "tasks = [1]\n"}, "rightsizer.toml: tasks"),
        ({"file": "tasks = \n"}, "rightsizer.toml"),
        ({"file": "memory = 1.5\n"}, "rightsizer.toml: memory"),
        ({"env": {"RIGHTSIZER_CONFIG": "/nonexistent/x.toml"}}, "RIGHTSIZER_CONFIG"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, source: dict[str, Any], expected_key: str) -> None:
    if "file" in source:
        (tmp_path / "rightsizer.toml").write_text(source["file"])
    with pytest.raises(ConfigError) as info:
        load_settings(source.get("flags"), env=source.get("env", {}), cwd=tmp_path)
    assert info.value.key == expected_key
    assert str(info.value) == f"{expected_key}: {info.value.message}"
    assert "\n" not in str(info.value)


def test_alarm_tables_are_left_to_the_alarm_module(tmp_path: Path) -> None:
    (tmp_path / "rightsizer.toml").write_text('tasks = 3\n[[alarm]]\nAlarmName = "x"\n')
    assert load_settings(env={}, cwd=tmp_path).tasks == 3
