"""`rightsizer run --web` in a subprocess (Locust never enters the pytest process), the HTTP
client that plays the browser's part, and headless Chromium for what a person sees."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rightsizer.fleet.ports import free_port
from tests import chromium
from tests.chromium import headless
from tests.load.conftest import RunOutput, clean_env, rightsizer_command
from tests.load.target_app import serve_in_thread

SERVE_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0


@dataclass
class WebRun(RunOutput):
    """A `rightsizer run --web` process and where its UI and run directory are."""

    process: subprocess.Popen[bytes]
    base: str
    out: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        return self.process.wait(timeout)

    def serving(self, timeout: float = SERVE_TIMEOUT) -> WebRun:
        """Once the UI answers (any status); fails with the run's output if it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the run exited ({self.process.returncode}):\n{self.output()}")
            try:
                httpx.get(self.base + "/rightsizer/stats", timeout=1.0)
                return self
            except httpx.TransportError:
                time.sleep(0.2)
        pytest.fail(f"the web UI did not answer in {timeout:g} s:\n{self.output()}")


@pytest.fixture
def start_run(tmp_path: Path) -> Iterator[Callable[..., WebRun]]:
    """Start `rightsizer run --web --web-port FREE ARGS --out tmp/runs`; whatever is still
    running at the end gets Ctrl-C (SIGINT to its PID), then SIGKILL."""
    started: list[WebRun] = []

    def start(*args: str) -> WebRun:
        port = free_port()
        out, log = tmp_path / "runs", tmp_path / f"run-{len(started)}.log"
        command = rightsizer_command("run", "--web", "--web-port", str(port), *args)
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [*command, "--out", str(out)],
                cwd=tmp_path,
                env=clean_env(tmp_path),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        run = WebRun(process, f"http://127.0.0.1:{port}", out, log)
        started.append(run)
        return run

    yield start
    for run in started:
        if run.process.poll() is None:
            run.process.send_signal(signal.SIGINT)
            try:
                run.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                run.process.kill()
                run.process.wait()


@pytest.fixture
def target() -> Iterator[str]:
    """A real HTTP target in a thread of the test: its URL."""
    server, _, url = serve_in_thread()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def poll_until(
    read: Callable[[], Any], good: Callable[[Any], bool], timeout: float, what: str
) -> Any:
    """The first value of `read()` that is `good`, polled every half second."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = read()
        if good(value):
            return value
        time.sleep(0.5)
    pytest.fail(f"{what} within {timeout:g} s; last: {value!r}")


@dataclass(frozen=True)
class Page:
    """What headless Chromium made of a URL."""

    screenshot: Path | None
    dom: str
    requests: list[str]


def browse(url: str, work: Path, *, width: int = 1400, height: int = 1100) -> Page:
    """Load `url` in headless Chromium long enough for its scripts to poll a few times: one
    pass for a screenshot with a net log (every URL the page requested), one for the DOM."""
    work.mkdir(parents=True, exist_ok=True)
    shot, netlog = work / "shot.png", work / "net.json"
    common = [
        *headless(work),
        f"--window-size={width},{height}",
        "--virtual-time-budget=8000",
    ]
    chromium.run([*common, f"--log-net-log={netlog}", f"--screenshot={shot}", url])
    dom, _ = chromium.run([*common, "--dump-dom", url])
    return Page(shot if shot.is_file() else None, dom, chromium.page_requests(netlog))
