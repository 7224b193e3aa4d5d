"""`rightsizer up/down/status` as a user and the load runner run them: real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rightsizer.cgroup.hierarchy import detect
from rightsizer.errors import RefusedError
from rightsizer.fleet.supervisor import down
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, MetricStore
from rightsizer.process import running, start_time
from rightsizer.rundir import write_json
from tests.fleet.conftest import TASK_APP
from tests.waiting import poll_until

TASK_CMD = f"{sys.executable} {TASK_APP} --port {{port}}"
SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


def real(test: Callable[..., None]) -> Callable[..., None]:
    """Real cgroups, HAProxy and supervisors in subprocesses: seconds per test."""
    for mark in (pytest.mark.cgroups, pytest.mark.haproxy, pytest.mark.slow):
        test = mark(test)
    return test


class Cli:
    """Runs `python -m rightsizer` in a temp dir with its own state dir; cleans up after."""

    def __init__(self, tmp_path: Path) -> None:
        self.cwd = tmp_path
        self.state_dir = tmp_path / "state"
        self.env = {**os.environ, "RIGHTSIZER_STATE_DIR": str(self.state_dir)}
        self.started: list[subprocess.Popen[str]] = []
        self.supervisors: set[int] = set()

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rightsizer", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "rightsizer", *args],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started.append(process)
        return process

    def state(self) -> dict[str, Any]:
        document = json.loads((self.state_dir / "fleet.json").read_text())
        self.supervisors.add(document["pid"])
        return dict(document)

    def cleanup(self) -> None:
        if (self.state_dir / "fleet.json").exists():
            self.run("down", timeout=60)
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    runner = Cli(tmp_path)
    try:
        yield runner
    finally:
        runner.cleanup()
        for pid in runner.supervisors:
            assert _groups_of(pid) == []


def _groups_of(pid: int) -> list[Path]:
    hierarchy = detect(Path("/sys/fs/cgroup"))
    return [p for own in hierarchy.own_dirs() for p in own.glob(f"rightsizer-{pid}-*")]


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout}s: {what}")
        time.sleep(0.05)


def _task_cpu_exposed(control_url: str) -> bool:
    """Whether the fleet's /metrics shows task 1's CPU (the sampler stored a sample)."""
    text = httpx.get(f"{control_url}/metrics", timeout=5).text
    return "rightsizer_cpu_utilization{" in text and 'task_id="1"' in text


def _fleet_pids(document: dict[str, Any]) -> list[int]:
    return [t["pid"] for t in document["tasks"]] + [document["haproxy_pid"]]


@real
def test_detached_up_status_and_down_leave_nothing(cli: Cli) -> None:
    up = cli.run("up", "--tasks", "2", "--port", "0", "--task-cmd", TASK_CMD, "--detach")
    assert up.returncode == 0, up.stderr
    document = cli.state()
    assert document["url"] in up.stdout and "2 tasks" in up.stdout
    assert httpx.get(document["url"], timeout=5).text == "hello\n"

    def both_healthy_and_sampled() -> bool:
        # the sampler's first CPU figure needs two readings: it may come after the health checks
        status = cli.run("status", "--json")
        assert status.returncode == 0, status.stderr
        body = json.loads(status.stdout)
        return bool(body["healthy_hosts"] == 2 and body["tasks"][0]["cpu_utilization"] is not None)

    poll_until(both_healthy_and_sampled, 30, "two healthy, sampled hosts in `status`", 0.5)
    status = cli.run("status", "--json")
    body = json.loads(status.stdout)
    assert body["url"] == document["url"] and body["healthy_hosts"] == 2
    assert {
        "id",
        "pid",
        "port",
        "healthy",
        "cpu_utilization",
        "memory_utilization",
        "throttled_periods",
    } <= set(body["tasks"][0])
    assert body["tasks"][0]["cpu_utilization"] is not None
    table = cli.run("status")
    assert "healthy hosts: 2" in table.stdout

    again = cli.run("up", "--port", "0", "--task-cmd", TASK_CMD, "--detach")
    assert again.returncode == 2
    assert "already up" in again.stderr and "rightsizer down" in again.stderr

    down = cli.run("down")
    assert down.returncode == 0, down.stderr
    assert "nothing left behind" in down.stdout
    pids = [document["pid"], *_fleet_pids(document)]
    assert not any(running(pid) for pid in pids)
    assert _groups_of(document["pid"]) == []
    assert not (cli.state_dir / "fleet.json").exists()


@real
def test_sigterm_stops_a_foreground_up_with_exit_0(cli: Cli, tmp_path: Path) -> None:
    state_file, metrics = tmp_path / "fleet-state.json", tmp_path / "run" / "metrics.db"
    process = cli.start(
        "up", "--tasks", "2", "--port", "0", "--task-cmd", TASK_CMD,
        "--metrics-db", str(metrics), "--state-file", str(state_file),
    )  # fmt: skip
    _wait(state_file.exists, 60, "the state file")
    document = json.loads(state_file.read_text())
    assert document["pid"] == process.pid and document["capped"] is True
    assert document["cgroup_version"] in (1, 2) and document["haproxy"]
    assert httpx.get(f"{document['control_url']}/metrics", timeout=5).status_code == 200
    _wait(lambda: _task_cpu_exposed(document["control_url"]), 15, "a first CPU sample")
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert time.monotonic() - started < 8
    assert not any(running(pid) for pid in _fleet_pids(document))
    assert _groups_of(process.pid) == []
    with MetricStore(metrics, readonly=True) as store:
        key = MetricKey.of(names.CPU_UTILIZATION, ServiceName="uploader", TaskId="1")
        assert len(store.samples(key)) >= 1


@real
def test_a_killed_supervisor_takes_its_fleet_along_and_the_next_up_sweeps(cli: Cli) -> None:
    up = cli.run("up", "--port", "0", "--task-cmd", TASK_CMD, "--detach")
    assert up.returncode == 0, up.stderr
    first = cli.state()
    os.kill(first["pid"], signal.SIGKILL)
    # The parent-death signal ends the tasks and HAProxy with their supervisor.
    _wait(lambda: not any(running(pid) for pid in _fleet_pids(first)), 5, "tasks and HAProxy gone")
    _wait(lambda: not running(first["pid"]), 5, "supervisor gone")
    assert _groups_of(first["pid"]) != []  # nobody was there to remove them
    (cli.state_dir / "fleet.json").unlink()

    again = cli.run("up", "--port", "0", "--task-cmd", TASK_CMD, "--detach")
    assert again.returncode == 0, again.stderr
    assert _groups_of(first["pid"]) == []  # swept at start
    cli.state()
    assert cli.run("down").returncode == 0


@real
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lb", "none", "--tasks", "2"], "--lb none needs exactly one task"),
        (["--task-cmd", "python app.py"], "--task-cmd: must contain {port}"),
    ],
)
def test_bad_arguments_are_one_line_errors_with_exit_2(
    cli: Cli, args: list[str], message: str
) -> None:
    result = cli.run("up", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@real
def test_status_and_down_without_a_fleet(cli: Cli) -> None:
    result = cli.run("status")
    assert result.returncode == 1
    assert "no fleet is up" in result.stderr and "rightsizer up --detach" in result.stderr
    result = cli.run("down")
    assert result.returncode == 0 and "no fleet is up" in result.stdout


@real
def test_concurrent_fleets_keep_their_own_directories(cli: Cli, tmp_path: Path) -> None:
    # `up --detach` beside a fleet a run started (`--state-file`, `--workdir`), one state dir.
    up = cli.run("up", "--tasks", "2", "--port", "0", "--task-cmd", TASK_CMD, "--detach")
    assert up.returncode == 0, up.stderr
    detached = cli.state()
    run_dir = tmp_path / "run"
    state_file = run_dir / "fleet.json"
    process = cli.start(
        "up", "--tasks", "2", "--port", "0", "--task-cmd", TASK_CMD,
        "--state-file", str(state_file), "--workdir", str(run_dir / "fleet"),
    )  # fmt: skip
    _wait(state_file.exists, 60, "the second fleet's state file")
    second = json.loads(state_file.read_text())
    assert detached["workdir"] == str(cli.state_dir / "fleets" / str(detached["pid"]))
    assert second["workdir"] == str(run_dir / "fleet")
    for document in (detached, second):
        workdir = Path(document["workdir"])
        config = (workdir / "haproxy.cfg").read_text()
        assert f"bind 127.0.0.1:{document['url'].rsplit(':', 1)[1]}" in config
        logs = sorted(p.name for p in (workdir / "logs").iterdir())
        assert logs == ["task-1.log", "task-2.log"]
    assert httpx.get(detached["url"], timeout=5).text == "hello\n"
    assert httpx.get(second["url"], timeout=5).text == "hello\n"
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    stopped = cli.run("down")
    assert stopped.returncode == 0, stopped.stderr
    assert f"logs: {detached['workdir']}" in stopped.stdout
    # Kept for reading until the next `up` from this state dir sweeps it.
    assert (Path(detached["workdir"]) / "haproxy.log").exists()
    again = cli.run("up", "--port", "0", "--task-cmd", TASK_CMD, "--detach")
    assert again.returncode == 0, again.stderr
    assert not Path(detached["workdir"]).exists()
    assert cli.state()["workdir"] != detached["workdir"]


@real
def test_a_fleet_started_for_a_run_stops_when_its_parent_is_gone(cli: Cli, tmp_path: Path) -> None:
    # The parent starts `up --state-file` WITHOUT a parent-death signal, then is SIGKILLed:
    # the supervisor notices that its parent changed and stops in order.
    state_file, log = tmp_path / "fleet.json", tmp_path / "fleet.log"
    starter = (
        "import subprocess, sys, time\n"
        "with open(sys.argv[1], 'wb') as log:\n"
        "    p = subprocess.Popen(sys.argv[2:], stdout=log, stderr=log, start_new_session=True)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    command = [
        sys.executable, "-m", "rightsizer", "up", "--port", "0", "--task-cmd", TASK_CMD,
        "--state-file", str(state_file), "--workdir", str(tmp_path / "work"),
    ]  # fmt: skip
    parent = subprocess.Popen(
        [sys.executable, "-c", starter, str(log), *command],
        cwd=cli.cwd,
        env=cli.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        supervisor = int(parent.stdout.readline())
        _wait(state_file.exists, 60, "the state file")
        document = json.loads(state_file.read_text())
        assert document["pid"] == supervisor
        parent.kill()
        parent.wait()
        _wait(lambda: not running(supervisor), 15, "the supervisor stopped")
        assert not any(running(pid) for pid in _fleet_pids(document))
        assert _groups_of(supervisor) == []
        assert f"the process that started this fleet (pid {parent.pid}) is gone" in log.read_text()
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_down_with_a_state_file_that_names_no_pid_is_a_one_line_refusal(tmp_path: Path) -> None:
    write_json(tmp_path / "fleet.json", {"pid": "12", "url": 5})
    with pytest.raises(RefusedError, match=r"names no supervisor pid; if no fleet runs, delete"):
        down(tmp_path, tmp_path / "no-cgroups", ledger_dir=tmp_path / "ledger")


def test_down_after_the_supervisor_is_gone_tolerates_a_malformed_document(
    tmp_path: Path,
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_json(
        tmp_path / "fleet.json",
        {"pid": gone.pid, "name": "x", "tasks": "many", "groups": [5, None], "haproxy_pid": "y"},
    )
    report = down(tmp_path, tmp_path / "no-cgroups", ledger_dir=tmp_path / "ledger")
    assert report.pid == gone.pid and report.tasks == 0 and report.leftovers == []
    assert not report.killed
    assert not (tmp_path / "fleet.json").exists()


def test_down_never_signals_a_recycled_pid_or_a_stranger(tmp_path: Path) -> None:
    stranger = subprocess.Popen(SLEEP)
    try:
        created = start_time(stranger.pid)
        assert created is not None
        # The recorded supervisor had this pid once, with another start time: recycled.
        write_json(
            tmp_path / "fleet.json",
            {"pid": stranger.pid, "pid_created": created - 50, "control_url": "http://x"},
        )
        down(tmp_path, tmp_path / "no-cgroups", ledger_dir=tmp_path / "ledger")
        assert stranger.poll() is None
        # The right start time, but nothing says it is a fleet: refused, not signalled.
        write_json(tmp_path / "fleet.json", {"pid": stranger.pid, "pid_created": created})
        with pytest.raises(RefusedError, match="does not describe a rightsizer fleet"):
            down(tmp_path, tmp_path / "no-cgroups", ledger_dir=tmp_path / "ledger")
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
