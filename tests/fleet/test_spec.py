from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from rightsizer.errors import ConfigError, UsageError
from rightsizer.fleet.spec import Balancing, FleetSpec, parse_task_command, uploader_command


def test_the_default_task_is_the_uploader_on_loopback() -> None:
    assert uploader_command() == (
        sys.executable, "-m", "rightsizer", "serve", "--port", "{port}", "--host", "127.0.0.1",
    )  # fmt: skip


def test_from_settings_passes_database_and_data_dir_to_the_tasks(settings_factory: Any) -> None:
    settings = settings_factory(tasks=2, cpu=0.5, memory=256, port=0, lb="leastconn")
    spec = FleetSpec.from_settings(settings)
    assert (spec.tasks, spec.cpu, spec.memory_mb, spec.port) == (2, 0.5, 256, 0)
    assert spec.balancing is Balancing.LEASTCONN
    assert spec.env["RIGHTSIZER_DB"] == settings.db
    assert spec.env["RIGHTSIZER_DATA_DIR"] == str(settings.data_dir)
    assert spec.env["RIGHTSIZER_KEEPALIVE"] == "75"
    # A directory of this process's own: concurrent fleets never share one.
    assert spec.workdir == settings.state_dir / "fleets" / str(os.getpid())


def test_task_command_must_place_the_port() -> None:
    assert parse_task_command("python app.py --port {port}") == (
        "python", "app.py", "--port", "{port}",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="--task-cmd: must contain"):
        parse_task_command("python app.py")
    with pytest.raises(ConfigError, match="cannot split"):
        parse_task_command("python 'app.py {port}")


def test_no_balancer_means_one_task(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--lb none needs exactly one task"):
        FleetSpec(workdir=tmp_path, tasks=2, balancing=Balancing.NONE)


@pytest.mark.parametrize(
    "path", ["/é", "healthz", "/a b", "/x\r\nHost: evil", "/x#y", '/x"y', "/x\\y", ""]
)
def test_a_health_path_that_cannot_go_on_the_wire_as_it_is_is_one_line(
    tmp_path: Path, path: str
) -> None:
    with pytest.raises(ConfigError, match=r"^health_path: expected a path such as /healthz") as bad:
        FleetSpec(workdir=tmp_path, health_path=path)
    assert "\n" not in str(bad.value)


def test_a_usual_health_path_is_accepted(tmp_path: Path) -> None:
    for path in ("/", "/healthz", "/index.php?action=health&x=1", "/a/b-c_d.e~f%20"):
        assert FleetSpec(workdir=tmp_path, health_path=path).health_path == path
