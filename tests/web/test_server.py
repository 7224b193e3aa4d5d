"""`rightsizer run --web` against a --host target, in a subprocess: Locust's real web UI with
rightsizer's routes, its login, steps set in the UI or run by themselves, and the refusals
that come before anything starts."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from rightsizer.fleet.ports import LOOPBACK
from tests.load.conftest import clean_env, rightsizer_command
from tests.web.conftest import WebRun, poll_until

pytestmark = [pytest.mark.slow]
AUTH = ("ops", "s3cret-pw")
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def answered(doc: dict[str, Any]) -> int:
    """Requests Locust counted so far, from its `/stats/requests` document."""
    (total,) = [row for row in doc["stats"] if row["name"] == "Aggregated"]
    return int(total["num_requests"])


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        rightsizer_command("run", *args, "--out", str(tmp_path / "runs")),
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--web-host", "0.0.0.0"], "--web-host: 0.0.0.0 is reachable from other machines"),
        (["--web-host", "*"], "add --web-auth USER:PASS"),
        (["--web-auth", "nocolon"], "--web-auth: give USER:PASSWORD"),
        (["--web-auth", ":s3cret-pw"], "--web-auth: give USER:PASSWORD"),
        (["--web-auth", "ops:"], "--web-auth: give USER:PASSWORD"),
        (["--web-host", "0.0.0.0", "--web-auth", "ops"], "--web-auth: give USER:PASSWORD"),
        (["--step-time", "5"], "--step-time: without --users the web UI sets the steps"),
    ],
)
def test_unsafe_or_malformed_web_options_are_refused_before_anything_starts(
    tmp_path: Path, args: list[str], words: str
) -> None:
    done = _cli(tmp_path, "--web", "--host", "http://127.0.0.1:9", *args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines
    assert "s3cret" not in done.stderr
    assert not (tmp_path / "runs").exists()  # nothing started, nothing written


def test_web_flags_without_web_and_a_busy_port_are_usage_errors(tmp_path: Path) -> None:
    done = _cli(tmp_path, "--web-port", "8089", "--users", "1", "--step-time", "1")
    assert done.returncode == 2 and "--web-port: only with --web" in done.stderr
    with socket.socket() as busy:
        busy.bind((LOOPBACK, 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        done = _cli(tmp_path, "--web", "--web-port", port, "--host", "http://127.0.0.1:9")
    assert done.returncode == 2, done.stderr
    assert f"error: --web-port: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.locust
def test_login_protects_every_route_and_stop_in_the_ui_ends_the_run(
    start_run: Callable[..., WebRun], target: str
) -> None:
    run = start_run(
        "--host", target, "--users", "1", "--step-time", "120", "--cooldown", "0",
        "--web-auth", ":".join(AUTH),
    ).serving()  # fmt: skip
    base = run.base
    for path in ("/rightsizer/stats", "/stats/requests", "/rightsizer/"):
        refused = httpx.get(base + path)
        assert refused.status_code == 401, path
        assert refused.headers["WWW-Authenticate"].startswith("Basic")
    assert httpx.get(base + "/rightsizer/stats", auth=("ops", "wrong")).status_code == 401
    assert httpx.post(base + "/stop").status_code == 401
    page = httpx.get(base + "/", headers=HTML)  # a browser: to Locust's login page
    assert page.status_code == 302 and page.headers["Location"].endswith("/login")

    stats = poll_until(  # the wrong password locked this address out for a second
        lambda: httpx.get(base + "/rightsizer/stats", auth=AUTH),
        lambda reply: reply.status_code != 429,
        30,
        "the lockout after a wrong password to end",
    )
    assert stats.status_code == 200
    assert {"tasks", "alarms"} <= set(stats.json()) and stats.json()["tasks"] == []

    with httpx.Client(base_url=base) as browser:  # Locust's login form, then a session
        assert browser.get("/login").status_code == 200
        login = browser.post("/rightsizer/login", data={"username": "ops", "password": AUTH[1]})
        assert login.status_code == 302 and login.headers["Location"] == "/"
        index = browser.get("/", headers=HTML)
        assert index.status_code == 200
        assert '"extended_tabs": [{"key": "rightsizer", "title": "Tasks \\u0026 alarms"}]' in (
            index.text
        )
        assert "rightsizer/static/tab.js" in index.text
        requests = poll_until(
            lambda: browser.get("/stats/requests").json(),
            lambda doc: doc["user_count"] == 1,
            30,
            "one user running",
        )
        assert requests["extended_stats"] == [{"key": "rightsizer", "data": []}]
        poll_until(  # some load for the report's charts
            lambda: browser.get("/stats/requests").json(),
            lambda doc: answered(doc) >= 3,
            60,
            "three answered requests",
        )
        refused = browser.post("/swarm", data={"user_count": "5", "spawn_rate": "5"}).json()
        assert refused["success"] is False and "run by themselves" in refused["message"]
        assert browser.post("/stop").json()["success"] is True

    assert run.wait() == 0, run.output()
    assert "the run ended early: stopped in the web UI" in run.output()
    manifest = run.manifest()
    assert manifest["stop_reason"] == "stopped in the web UI"
    assert manifest["web"] == {"host": "127.0.0.1", "port": int(base.rsplit(":", 1)[1]),
                               "login": "ops"}  # fmt: skip
    assert "s3cret" not in (run.run_dir() / "manifest.json").read_text()
    assert [s["users"] for s in run.steps()] == [1]
    assert (run.run_dir() / "report.html").is_file()


@pytest.mark.locust
def test_steps_from_users_run_by_themselves_with_the_ui_watching(
    start_run: Callable[..., WebRun], target: str
) -> None:
    run = start_run(
        "--host", target, "--users", "1,2", "--step-time", "5", "--cooldown", "0"
    ).serving()  # fmt: skip
    seen = poll_until(
        lambda: httpx.get(run.base + "/stats/requests").json(),
        lambda doc: doc["user_count"] == 2,
        30,
        "the second step's users in Locust's UI",
    )
    assert seen["state"] in ("running", "spawning")
    assert run.wait() == 0, run.output()
    assert [s["users"] for s in run.steps()] == [1, 2]
    assert run.manifest()["stop_reason"] == "completed"


@pytest.mark.locust
def test_users_set_in_the_ui_make_the_steps_and_ctrl_c_writes_the_run(
    start_run: Callable[..., WebRun], target: str
) -> None:
    run = start_run("--host", target, "--cooldown", "0").serving()
    ready = httpx.get(run.base + "/stats/requests").json()
    assert ready["state"] == "ready" and ready["user_count"] == 0
    started = httpx.post(run.base + "/swarm", data={"user_count": "2", "spawn_rate": "10"})
    assert started.json()["success"] is True
    stats = run.base + "/stats/requests"
    poll_until(  # two users running, and answered: the first step has requests
        lambda: httpx.get(stats).json(),
        lambda doc: doc["user_count"] == 2 and answered(doc) >= 1,
        30,
        "two users with an answered request",
    )
    edited = httpx.post(run.base + "/swarm", data={"user_count": "4", "spawn_rate": "10"})
    assert edited.json()["success"] is True
    at_four = poll_until(
        lambda: httpx.get(stats).json(), lambda doc: doc["user_count"] == 4, 20, "four users"
    )
    poll_until(  # requests sent after the edit: the second step has some too
        lambda: answered(httpx.get(stats).json()),
        lambda count: count >= answered(at_four) + 3,
        30,
        "three more answered requests at four users",
    )
    run.process.send_signal(signal.SIGINT)
    assert run.wait() == 130, run.output()
    steps = run.steps()
    assert [s["users"] for s in steps] == [2, 4]
    assert steps[0]["end"] == steps[1]["start"] and all(s["requests_total"] > 0 for s in steps)
    manifest = run.manifest()
    assert manifest["stop_reason"] == "interrupted" and manifest["users"] == [2, 4]
    assert manifest["step_time"] == 0.0  # the UI set the steps' lengths


@pytest.mark.locust
def test_a_ui_driven_run_ends_with_stop_and_refuses_a_new_test(
    start_run: Callable[..., WebRun], target: str
) -> None:
    run = start_run("--host", target, "--cooldown", "3").serving()
    elsewhere = httpx.post(
        run.base + "/swarm", data={"user_count": "1", "spawn_rate": "1", "host": "http://10.0.0.9"}
    ).json()
    assert elsewhere["success"] is False and "cannot be changed" in elsewhere["message"]
    assert httpx.post(run.base + "/swarm", data={"user_count": "1", "spawn_rate": "1"}).json()[
        "success"
    ]
    poll_until(
        lambda: httpx.get(run.base + "/stats/requests").json(),
        lambda doc: doc["user_count"] == 1 and answered(doc) >= 1,
        30,
        "one user with an answered request",
    )
    assert httpx.post(run.base + "/stop").json()["success"] is True
    again = httpx.post(run.base + "/swarm", data={"user_count": "1", "spawn_rate": "1"}).json()
    assert again["success"] is False and "this run has ended" in again["message"]
    assert run.wait() == 0, run.output()
    assert run.manifest()["stop_reason"] == "completed"
    assert [s["users"] for s in run.steps()] == [1]
