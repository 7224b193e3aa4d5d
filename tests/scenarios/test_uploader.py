"""The bundled scenario is a plain locustfile: `locust -f` runs it as is (in a subprocess)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rightsizer.scenarios import UPLOADER, is_bundled
from tests.load.conftest import clean_env
from tests.load.target_app import serve_in_thread

pytestmark = pytest.mark.slow
POST = "/index.php?action=save"


def plain_locust(tmp_path: Path, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "locust", "-f", str(UPLOADER), "--headless", "-u", "3", "-r", "3",
        "-t", "4s", "--host", url, "--csv", str(tmp_path / "plain"), "--json",
        # Without a stop timeout Locust kills users mid-request: saves the server did but
        # Locust never counted (rightsizer run always lets them finish).
        "--stop-timeout", "10",
    ]  # fmt: skip
    return subprocess.run(
        command,
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def counts(done: subprocess.CompletedProcess[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(method, name) -> (requests, failures) from Locust's final JSON (its CSV is written
    once a second and may miss the last requests)."""
    entries = json.loads(done.stdout)
    return {(e["method"], e["name"]): (e["num_requests"], e["num_failures"]) for e in entries}


@pytest.mark.locust
def test_plain_locust_runs_it_and_each_success_is_one_save(tmp_path: Path) -> None:
    server, served, url = serve_in_thread()
    try:
        done = plain_locust(tmp_path, url)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    stats = counts(done)
    assert stats[("POST", POST)] == (served.saves, 0)
    assert served.saves > 0
    assert stats[("GET", "/index.php")][0] >= served.saves


@pytest.mark.locust
def test_an_answer_that_is_not_the_redirect_is_a_failure(tmp_path: Path) -> None:
    server, served, url = serve_in_thread(save_status=200)
    try:
        done = plain_locust(tmp_path, url)
    finally:
        server.shutdown()
        server.server_close()
    assert counts(done)[("POST", POST)] == (served.saves, served.saves)
    assert served.saves > 0
    assert done.returncode == 1  # Locust's exit code when requests failed
    with (tmp_path / "plain_failures.csv").open() as handle:
        errors = [row["Error"] for row in csv.DictReader(handle)]
    assert any("expected a 302/303 redirect, got 200" in error for error in errors)


@pytest.mark.locust
def test_a_bad_upload_size_stops_with_a_clear_message(tmp_path: Path) -> None:
    server, _, url = serve_in_thread()
    try:
        done = plain_locust(tmp_path, url, RIGHTSIZER_UPLOAD_KB="lots")
    finally:
        server.shutdown()
        server.server_close()
    assert "RIGHTSIZER_UPLOAD_KB: expected a number of KiB, got 'lots'" in done.stderr


def test_is_bundled() -> None:
    assert is_bundled(UPLOADER)
    assert not is_bundled(Path(__file__))
