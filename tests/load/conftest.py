"""Fixtures for the load tests: a real HTTP target in a thread, and `rightsizer run` in a
subprocess (Locust must never be imported into the pytest process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.load.target_app import Counts, serve_in_thread

RUN_TIMEOUT = 120


@dataclass
class Target:
    url: str
    counts: Counts


@pytest.fixture
def target() -> Iterator[Target]:
    server, counts, url = serve_in_thread()
    try:
        yield Target(url, counts)
    finally:
        server.shutdown()
        server.server_close()


class RunOutput:
    """The run directory a `rightsizer run --out OUT` wrote (the only one under `out`)."""

    out: Path

    def run_dir(self) -> Path:
        (found,) = [p for p in self.out.iterdir() if p.is_dir()]
        return found

    def manifest(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads((self.run_dir() / "manifest.json").read_text())
        return doc

    def steps(self) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = json.loads((self.run_dir() / "steps.json").read_text())[
            "steps"
        ]
        return steps


@dataclass
class Finished(RunOutput):
    returncode: int
    stdout: str
    stderr: str
    out: Path


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RIGHTSIZER_", "LOCUST_"))}
    env["RIGHTSIZER_STATE_DIR"] = str(tmp_path / "state")
    env["RIGHTSIZER_UPLOAD_KB"] = "4"
    env.update(extra)
    return env


def rightsizer_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "rightsizer", *args]


@pytest.fixture
def run_cli(tmp_path: Path) -> Any:
    """Run `rightsizer run ARGS --out tmp/runs` to the end; returns a Finished."""

    def run(*args: str, timeout: float = RUN_TIMEOUT, **env: str) -> Finished:
        out = tmp_path / "runs"
        done = subprocess.run(
            rightsizer_command("run", *args, "--out", str(out)),
            cwd=tmp_path,
            env=clean_env(tmp_path, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Finished(done.returncode, done.stdout, done.stderr, out)

    return run


def signalled_run(
    tmp_path: Path,
    *args: str,
    ready: Callable[[Path], bool],
    signum: int,
    poll: float = 0.1,
    ready_within: float = 60,
) -> Finished:
    """Start `rightsizer run ARGS --out tmp/runs`, send `signum` once `ready(out)` holds (or
    after `ready_within` seconds), and wait for the run to end; it is killed if it does not."""
    out = tmp_path / "runs"
    process = subprocess.Popen(
        rightsizer_command("run", *args, "--out", str(out)),
        cwd=tmp_path,
        env=clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + ready_within
        while not ready(out) and time.monotonic() < deadline:
            time.sleep(poll)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return Finished(process.returncode, stdout, stderr, out)
