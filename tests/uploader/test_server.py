"""`rightsizer serve` as a real process: one line, clean stops, many at once, Locust unchanged."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rightsizer.uploader.verify import verify
from tests.uploader.helpers import file_body, serve_in_thread

STARTUP_S = 60  # the CLI imports every command group; slow on a busy 2-core machine
# The seed's locustfile, as the seed shows it (only the indentation the seed lost is restored).
SEED_LOCUSTFILE = """\
from locust import HttpUser, task, between
class FileUploadUser(HttpUser):
    wait_time = between(1, 5) # ユーザーのアクション間の待機時間を1〜5秒の間でランダムに設定
    @task
    def upload_flow(self):
        # ステップ1: index.phpのフォームをGETリクエストで取得
        self.client.get("/index.php")
        # ステップ2: ファイルをアップロードするPOSTリクエストを送信
        files = {'file': ('test.jpg', open('test.jpg', 'rb'))}
        self.client.post("/index.php?action=save", files=files)
"""


@contextlib.contextmanager
def serve_process(env: dict[str, str], cwd: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m rightsizer serve --port 0`; yields the process and the URL it announced."""
    command = [sys.executable, "-m", "rightsizer", "serve", "--port", "0", "--host", "127.0.0.1"]
    with subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], STARTUP_S)
            line = proc.stdout.readline() if ready else ""
            assert "listening on http://127.0.0.1:" in line, (line, proc.poll())
            yield proc, line.split("listening on ", 1)[1].split()[0]
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)


def env_for(db: str, data_dir: Path) -> dict[str, str]:
    return {"RIGHTSIZER_DB": db, "RIGHTSIZER_DATA_DIR": str(data_dir)}


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_prints_one_line_and_stops_cleanly(
    stop: signal.Signals, sqlite_url: str, data_dir: Path, tmp_path: Path
) -> None:
    with serve_process(env_for(sqlite_url, data_dir), tmp_path) as (proc, url):
        with httpx.Client(base_url=url) as client:
            assert client.get("/index.php").status_code == 200
            files = {"file": ("test.jpg", b"abc", "image/jpeg")}
            assert client.post("/index.php?action=save", files=files).status_code == 303
            assert client.get("/nope").status_code == 404
        proc.send_signal(stop)
        out, errors = proc.communicate(timeout=30)
        assert proc.returncode == 0
    assert out == ""  # nothing after the startup line: no access log
    assert errors == ""


async def _upload_everywhere(urls: list[str], per_server: int) -> list[int]:
    """Upload to every server at once, `per_server` concurrent uploads each."""
    headers = {"content-type": "multipart/form-data; boundary=test-boundary-5f1c"}
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(url: str, i: int) -> int:
            body = file_body(b"%s #%d" % (url.encode(), i))
            response = await client.post(
                url + "/index.php?action=save", content=body, headers=headers
            )
            return response.status_code

        jobs = [one(url, i) for url in urls for i in range(per_server)]
        return await asyncio.gather(*jobs)


def _start_many(count: int, per_server: int, db: str, data_dir: Path, cwd: Path) -> list[int]:
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(serve_process(env_for(db, data_dir), cwd)) for _ in range(count)
        ]
        for _, url in servers:
            assert httpx.get(url + "/healthz", timeout=30).status_code == 200
        statuses = asyncio.run(_upload_everywhere([url for _, url in servers], per_server))
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            assert proc.wait(30) == 0
            assert proc.stderr is not None and proc.stderr.read() == ""  # no "database is locked"
    return statuses


@pytest.mark.slow
def test_several_processes_share_one_database_and_data_dir(
    db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    # Started at the same moment on a fresh database and a missing data dir: schema creation,
    # WAL setup and the marker all race, and every process must come up; then all of them
    # write at once.
    statuses = _start_many(3, 20, db_url, data_dir, tmp_path)
    assert statuses == [303] * 60
    report = verify_for(db_url, data_dir)
    assert report.consistent
    assert report.rows == report.files == 60


def verify_for(db: str, data_dir: Path) -> Any:
    from rightsizer.config import load_settings

    return verify(load_settings({"db": db, "data_dir": str(data_dir)}, env={}))


@pytest.mark.slow
@pytest.mark.locust
def test_the_seed_locustfile_works_unchanged(
    make_settings: Any, db_url: str, tmp_path: Path
) -> None:
    workdir = tmp_path / "locust"
    workdir.mkdir()
    (workdir / "seed_locustfile.py").write_text(SEED_LOCUSTFILE, encoding="utf-8")
    (workdir / "test.jpg").write_bytes(os.urandom(100 * 1024))
    locust = Path(sys.executable).parent / "locust"
    settings = make_settings(db_url)
    with serve_in_thread(settings) as live:
        done = subprocess.run(
            [str(locust), "-f", "seed_locustfile.py", "--headless", "-u", "2", "-r", "2",
             "-t", "6s", "--host", live.url, "--only-summary", "--stop-timeout", "5"],
            cwd=workdir, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    summary = done.stdout + done.stderr
    assert done.returncode == 0, summary  # Locust exits 1 when any request failed
    assert "POST" in summary and "/index.php?action=save" in summary
    report = verify(settings)
    assert report.consistent
    assert report.rows == report.files >= 2
