"""`rightsizer run` on a fleet it starts itself (real cgroups, real HAProxy), in a subprocess.

Short steps and few users: each test takes about 15-20 s.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.load.conftest import Finished, clean_env, rightsizer_command, signalled_run
from tests.load.test_run_host import check_run_directory, successful_posts

pytestmark = [pytest.mark.slow, pytest.mark.cgroups, pytest.mark.haproxy]
TARGET_APP = Path(__file__).with_name("target_app.py")

FOREIGN_LOCUSTFILE = """
from locust import HttpUser, between, task


class Reader(HttpUser):
    wait_time = between(0.1, 0.3)

    @task(3)
    def page(self):
        self.client.get("/")

    @task
    def slow(self):
        self.client.get("/slow?ms=50", name="slow page")
"""


def verify(tmp_path: Path) -> dict[str, Any]:
    done = subprocess.run(
        rightsizer_command("verify", "--json"),
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def fleet_gone(finished: Finished) -> None:
    state = json.loads((finished.run_dir() / "fleet.json").read_text())
    assert not psutil.pid_exists(state["pid"]) or psutil.Process(state["pid"]).status() == (
        psutil.STATUS_ZOMBIE
    )


@pytest.mark.locust
def test_two_steps_on_the_uploader_match_rows_and_files(run_cli: Any, tmp_path: Path) -> None:
    finished = run_cli("--users", "2,4", "--step-time", "4", "--port", "0", "--cooldown", "2")
    assert finished.returncode == 0, finished.stderr
    steps = finished.steps()
    posts = successful_posts(steps)
    report = verify(tmp_path)
    assert report["consistent"] is True
    assert posts == report["rows"] == report["files"] > 0
    check_run_directory(finished)
    manifest = finished.manifest()
    assert manifest["target"]["kind"] == "fleet"
    assert manifest["target"]["tasks"] == 1 and manifest["target"]["cpu"] == 0.25
    assert manifest["reset"]["plan"]["data_dir"] == str(tmp_path / "state" / "data")
    assert manifest["alarms"] == ["uploader-cpu-high"]
    for step in steps:
        assert step["cpu_utilization"] is not None and step["cpu_utilization"] >= 0
        assert step["cpu_utilization_max"] >= step["cpu_utilization"]
        assert step["memory_utilization"] is not None
    fleet_gone(finished)


@pytest.mark.locust
def test_a_second_run_resets_first(run_cli: Any, tmp_path: Path) -> None:
    first = run_cli("--users", "2", "--step-time", "3", "--port", "0", "--cooldown", "0")
    assert first.returncode == 0, first.stderr
    for run_dir in list(first.out.iterdir()):
        run_dir.rename(tmp_path / ("first-" + run_dir.name))
    second = run_cli("--users", "2", "--step-time", "3", "--port", "0", "--cooldown", "0")
    assert second.returncode == 0, second.stderr
    assert second.manifest()["reset"]["deleted_rows"]["uploaded_files"] > 0
    assert verify(tmp_path)["rows"] == successful_posts(second.steps())


@pytest.mark.locust
def test_a_foreign_locustfile_on_a_task_command(run_cli: Any, tmp_path: Path) -> None:
    locustfile = tmp_path / "reader.py"
    locustfile.write_text(FOREIGN_LOCUSTFILE)
    task_cmd = f"{sys.executable} {TARGET_APP} {{port}}"
    finished = run_cli(
        "-f", str(locustfile), "--users", "2,3", "--step-time", "4", "--port", "0",
        "--task-cmd", task_cmd, "--tasks", "2", "--cooldown", "1",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    steps = finished.steps()
    assert [s["users"] for s in steps] == [2, 3]
    assert {"/", "slow page"} <= set().union(*(s["requests"] for s in steps))
    assert sum(s["failures"] for s in steps) == 0
    check_run_directory(finished)
    manifest = finished.manifest()
    assert "reset" not in manifest  # not the uploader: nothing of ours to reset
    assert manifest["target"]["task_cmd"] == task_cmd and manifest["target"]["tasks"] == 2
    assert manifest["alarms"] == []
    assert all(step["cpu_utilization"] is not None for step in steps)
    fleet_gone(finished)


def test_a_fleet_that_cannot_start_fails_the_run_and_says_why(run_cli: Any) -> None:
    finished = run_cli(
        "--users", "1", "--step-time", "3", "--port", "0", "--task-cmd", "false {port}"
    )
    assert finished.returncode == 1
    assert "error: the fleet did not start" in finished.stderr
    manifest = finished.manifest()
    assert manifest["status"] == "failed" and "did not start" in manifest["error"]
    assert finished.steps() == []


def test_a_signal_while_the_fleet_starts_stops_it_and_writes_the_run(tmp_path: Path) -> None:
    finished = signalled_run(
        tmp_path, "--users", "1", "--step-time", "30", "--port", "0",
        ready=lambda out: any(out.glob("*/fleet.log")), signum=signal.SIGTERM,
    )  # fmt: skip
    assert finished.returncode == 130, finished.stderr
    assert "Traceback" not in finished.stderr
    run_dir = finished.run_dir()
    assert finished.manifest()["interrupted"] is True
    for proc in psutil.process_iter(["cmdline"]):
        assert str(run_dir) not in " ".join(proc.info["cmdline"] or [])  # the fleet is gone


PAGE_LOCUSTFILE = """
from locust import HttpUser, constant, task


class Reader(HttpUser):
    wait_time = constant(0.2)

    @task
    def page(self):
        self.client.get("/")
"""


@pytest.mark.locust
def test_a_service_without_healthz_runs_with_health_path(run_cli: Any, tmp_path: Path) -> None:
    """Python's http.server answers 404 on /healthz: the fleet checks / instead, given as a
    flag here and as the settings file's key in the second run."""
    served = tmp_path / "site"
    served.mkdir()
    (served / "index.html").write_text("hello")
    locustfile = tmp_path / "pages.py"
    locustfile.write_text(PAGE_LOCUSTFILE)
    task_cmd = f"{sys.executable} -m http.server {{port}} --bind 127.0.0.1 --directory {served}"
    common = ("-f", str(locustfile), "--users", "1", "--step-time", "2", "--port", "0",
              "--cooldown", "0", "--task-cmd", task_cmd)  # fmt: skip
    finished = run_cli(*common, "--health-path", "/")
    assert finished.returncode == 0, finished.stderr
    (step,) = finished.steps()
    assert step["requests_total"] > 0 and step["failures"] == 0
    assert finished.manifest()["settings"]["health_path"] == "/"
    for run_dir in list(finished.out.iterdir()):
        run_dir.rename(tmp_path / ("first-" + run_dir.name))
    (tmp_path / "rightsizer.toml").write_text('health_path = "/index.html"\n')
    again = run_cli(*common)
    assert again.returncode == 0, again.stderr
    assert again.manifest()["settings"]["health_path"] == "/index.html"
