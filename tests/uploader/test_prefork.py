"""`rightsizer serve --workers N`: N processes on one port, stopped together, failing together."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rightsizer.fleet.spec import uploader_command, worker_count
from tests.waiting import poll_until

STARTUP_S = 60


def children(pid: int) -> set[int]:
    """The live child processes of `pid`, from /proc (zombies left out)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return set()
    alive = set()
    for child in (int(word) for word in text.split()):
        with contextlib.suppress(FileNotFoundError):
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                alive.add(child)
    return alive


@contextlib.contextmanager
def serve_workers(
    workers: int, env: dict[str, str], cwd: Path
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    command = [sys.executable, "-m", "rightsizer", "serve", "--port", "0",
               "--workers", str(workers)]  # fmt: skip
    with subprocess.Popen(
        command, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], STARTUP_S)
            line = proc.stdout.readline() if ready else ""
            assert f"{workers} workers" in line, (line, proc.poll())
            yield proc, line.split("listening on ", 1)[1].split()[0]
        finally:
            for pid in children(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)


def test_worker_count_by_task_size() -> None:
    assert [worker_count(c) for c in (0.25, 0.5, 0.99, 1, 1.5, 2, 4)] == [1, 1, 1, 2, 3, 3, 5]
    assert "--workers" not in uploader_command(1)
    assert uploader_command(3)[-2:] == ("--workers", "3")


@pytest.mark.slow
def test_workers_serve_one_port_and_stop_together(
    sqlite_url: str, data_dir: Path, tmp_path: Path
) -> None:
    env = {"RIGHTSIZER_DB": sqlite_url, "RIGHTSIZER_DATA_DIR": str(data_dir)}
    with serve_workers(3, env, tmp_path) as (proc, url):
        poll_until(lambda: len(children(proc.pid)) == 3, STARTUP_S, "three worker processes")
        workers = children(proc.pid)
        with httpx.Client(base_url=url) as client:
            poll_until(lambda: client.get("/healthz").status_code == 200, STARTUP_S, "healthy")
            files = {"file": ("a.jpg", b"abc", "image/jpeg")}
            assert client.post("/index.php?action=save", files=files).status_code == 303
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


@pytest.mark.slow
def test_a_worker_that_dies_ends_the_task(sqlite_url: str, data_dir: Path, tmp_path: Path) -> None:
    env = {"RIGHTSIZER_DB": sqlite_url, "RIGHTSIZER_DATA_DIR": str(data_dir)}
    with serve_workers(2, env, tmp_path) as (proc, _url):
        poll_until(lambda: len(children(proc.pid)) == 2, STARTUP_S, "two worker processes")
        one, other = sorted(children(proc.pid))
        os.kill(one, signal.SIGKILL)
        # the parent ends the other worker and exits failed, as a container whose process died
        assert proc.wait(30) != 0
        assert not Path(f"/proc/{other}").exists()
