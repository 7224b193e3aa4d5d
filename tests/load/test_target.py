"""Targets: a host is checked up front; a fleet is `rightsizer up` with the run's settings,
polled lightly while load runs, and never outlives the run (not even a SIGKILLed one)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import psutil
import pytest

from rightsizer.cgroup.hierarchy import detect
from rightsizer.config import Settings
from rightsizer.errors import UsageError
from rightsizer.fleet.control_server import ControlServer
from rightsizer.fleet.ports import is_listening
from rightsizer.load.target import FleetTarget, HostTarget, fleet_command, fleet_environment
from rightsizer.metrics import names
from rightsizer.metrics.prometheus import private_registry
from rightsizer.metrics.recent import Recent
from rightsizer.metrics.store import MetricKey, MetricStore, Sample
from rightsizer.process import running
from rightsizer.rundir import METRICS
from tests.load.conftest import clean_env, rightsizer_command
from tests.load.target_app import serve_in_thread
from tests.waiting import poll_until

TASK_APP = Path(__file__).parents[1] / "fleet" / "task_app.py"
LOCUSTFILE = """
from locust import HttpUser, constant, task


class Reader(HttpUser):
    wait_time = constant(0.2)

    @task
    def page(self):
        self.client.get("/")
"""


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
    assert command[-6:] == [
        "--metrics-db",
        str(tmp_path / "metrics.db"),
        "--workdir",
        str(tmp_path / "fleet"),  # the fleet's files live with the run, no other fleet's
        "--state-file",
        str(tmp_path / "fleet.json"),
    ]
    env = fleet_environment(settings, {"PATH": "/bin", "RIGHTSIZER_DB": "old"})
    assert env["PATH"] == "/bin"
    assert env["RIGHTSIZER_DB"] == settings.db  # the run's resolved value wins
    assert env["RIGHTSIZER_DATA_DIR"] == str(settings.data_dir)
    assert "RIGHTSIZER_TASKS" not in env  # passed as a flag


@pytest.fixture
def control() -> Iterator[tuple[str, Recent, list[int]]]:
    recent, calls = Recent(), []

    def status() -> dict[str, Any]:
        calls.append(1)  # would probe every task's /healthz with --lb none
        return {"tasks": [{"cpu_utilization": 99.0}]}

    server = ControlServer(private_registry(recent), status, recent)
    server.start()
    try:
        yield server.url, recent, calls
    finally:
        server.stop()


def test_task_cpu_reads_the_latest_samples_not_the_status(
    control: tuple[str, Recent, list[int]], settings_factory: Any, tmp_path: Path
) -> None:
    url, recent, calls = control
    supervisor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    target = FleetTarget(
        "http://127.0.0.1:1", supervisor, {"control_url": url}, settings_factory(), tmp_path
    )
    try:
        assert target.task_cpu() is None  # no tick yet
        cpu = "CPUUtilization"
        recent.add(
            5.0,
            [
                Sample(MetricKey.of(cpu, ServiceName="s", TaskId="1"), 4.5, 20.0),
                Sample(MetricKey.of(cpu, ServiceName="s", TaskId="2"), 4.5, 60.0),
            ],
        )
        assert target.task_cpu() == 40.0
        assert calls == []
        target.state["control_url"] = "http://127.0.0.1:1"  # a supervisor that is gone
        assert target.task_cpu() is None
    finally:
        target.stop()
    assert supervisor.returncode == -signal.SIGTERM


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive_descendants(pid: int) -> dict[int, list[str]]:
    """pid -> command line of each descendant still there when read (short-lived children
    such as `haproxy -v` may end between the listing and the reading)."""
    found: dict[int, list[str]] = {}
    for process in _descendants(pid):
        try:
            found[process.pid] = process.cmdline()
        except psutil.NoSuchProcess:
            continue
    return found


def _requests_counted(run_dir: Path) -> bool:
    """HAProxy has counted requests to the tasks in the run's metric store: load flows."""
    if not (run_dir / METRICS).exists():
        return False
    with MetricStore(run_dir / METRICS, readonly=True) as store:
        keys = store.keys(name=names.REQUEST_COUNT)
        return any(value > 0 for key in keys for _, value in store.samples(key))


def _groups_of(pid: int) -> list[Path]:
    hierarchy = detect(Path("/sys/fs/cgroup"))
    return [p for own in hierarchy.own_dirs() for p in own.glob(f"rightsizer-{pid}-*")]


@pytest.mark.slow
@pytest.mark.cgroups
@pytest.mark.haproxy
@pytest.mark.locust
def test_a_sigkilled_run_leaves_no_fleet_worker_or_group(tmp_path: Path) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    out = tmp_path / "runs"
    run = subprocess.Popen(
        rightsizer_command(
            "run", "-f", str(locustfile), "--users", "2", "--step-time", "60",
            "--tasks", "2", "--port", "0", "--workers", "1", "--out", str(out),
            "--task-cmd", f"{sys.executable} {TASK_APP} --port {{port}}",
        ),
        cwd=tmp_path,
        env=clean_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        poll_until(lambda: any(out.glob("*/fleet.json")), 90, "the fleet up")
        (state_path,) = out.glob("*/fleet.json")
        state = json.loads(state_path.read_text())

        def worker_running() -> bool:
            return any("rightsizer.load.worker" in c for c in _alive_descendants(run.pid).values())

        poll_until(worker_running, 60, "a Locust worker started")
        poll_until(lambda: _requests_counted(state_path.parent), 60, "requests through HAProxy")
        started = set(_alive_descendants(run.pid))
        assert {state["pid"], state["haproxy_pid"], *(t["pid"] for t in state["tasks"])} <= set(
            started
        )
        assert _groups_of(state["pid"]) != []
        port = int(state["url"].rsplit(":", 1)[1])
        os.kill(run.pid, signal.SIGKILL)
        run.wait()

        def everything_gone() -> bool:
            alive = [pid for pid in started if running(pid)]
            return not alive and not _groups_of(state["pid"]) and not is_listening(port)

        poll_until(everything_gone, 15, "tasks, HAProxy, workers, supervisor and groups gone")
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


def test_a_fleet_target_names_its_supervisor_and_whether_haproxy_balances(
    settings_factory: Any, tmp_path: Path
) -> None:
    def fleet(state: dict[str, Any]) -> FleetTarget:
        # Not started: only the state document the supervisor wrote matters here.
        return FleetTarget(
            "http://127.0.0.1:8080", cast(Any, None), state, settings_factory(), tmp_path
        )

    balanced = fleet({"control_url": "http://127.0.0.1:5", "haproxy_pid": 42})
    assert (balanced.control_url, balanced.balanced) == ("http://127.0.0.1:5", True)
    direct = fleet({"control_url": "http://127.0.0.1:5", "haproxy_pid": None})
    assert (direct.control_url, direct.balanced) == ("http://127.0.0.1:5", False)
    assert fleet({}).control_url is None
