"""Other web sites against Locust's real web UI (`rightsizer run --web`, Locust as installed):
reading the run's live data (CORS), driving it from a page (Sec-Fetch-Site, Origin), DNS
rebinding (Host), and a huge user count through `POST /swarm`.

Forms that would start load ask for 1 user at a time, so a regression starts almost nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from rightsizer.load.plan import MAX_SPAWN_RATE, MAX_USERS
from tests.web import conftest as web
from tests.web.conftest import WebRun, poll_until

pytestmark = [pytest.mark.slow]
start_run, target = web.start_run, web.target  # the fixtures
EVIL = "http://evil.example"
ONE_USER = {"user_count": "1", "spawn_rate": "1"}


def _cors_headers(reply: httpx.Response) -> list[str]:
    return [k for k in reply.headers if k.lower().startswith("access-control-")]


def _idle(run: WebRun) -> bool:
    doc = httpx.get(run.base + "/stats/requests").json()
    return bool(doc["state"] == "ready" and doc["user_count"] == 0)


def test_other_sites_can_neither_read_nor_drive_the_run(
    start_run: Callable[..., WebRun], target: str
) -> None:
    run = start_run("--host", target, "--cooldown", "0").serving()
    base, port = run.base, run.base.rsplit(":", 1)[1]

    for path in ("/rightsizer/stats", "/stats/requests", "/nothing-here"):
        reply = httpx.get(base + path, headers={"Origin": EVIL})
        assert _cors_headers(reply) == [], path
    preflight = httpx.options(
        base + "/swarm", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    assert _cors_headers(preflight) == []

    # DNS rebinding: the page's own name, so Origin and Host agree and the browser says
    # same-origin; only the name gives it away.
    name = f"rebind.evil.example:{port}"
    rebound = {"Host": name, "Origin": f"http://{name}", "Sec-Fetch-Site": "same-origin"}
    for method, path in (("POST", "/swarm"), ("GET", "/stats/requests"), ("GET", "/")):
        reply = httpx.request(method, base + path, data=ONE_USER, headers=rebound)
        assert reply.status_code == 403, (method, path)

    pages = [
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},  # a form post
        {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"},  # another port of localhost
        {"Origin": EVIL},
        {"Origin": "null"},  # a sandboxed frame or a file: page
    ]
    for headers in pages:
        for method, path in (("POST", "/swarm"), ("POST", "/stats/reset"), ("DELETE", "/stop")):
            reply = httpx.request(method, base + path, data=ONE_USER, headers=headers)
            assert reply.status_code == 403, (headers, method, path)
    reads = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}  # <script src=...>
    assert httpx.get(base + "/stats/requests", headers=reads).status_code == 403
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    assert httpx.get(base + "/", headers=link).status_code == 200  # a link still opens the UI
    user_class = {"user_class_name": "Reader", "host": "http://10.9.9.9"}
    assert httpx.post(base + "/user", json=user_class).status_code == 403
    assert _idle(run)

    for form, words in [
        ({"user_count": str(MAX_USERS + 1), "spawn_rate": "1"}, f"from 1 to {MAX_USERS}"),
        ({"user_count": "1", "spawn_rate": str(MAX_SPAWN_RATE * 10)}, "spawn rate"),
        ({"user_count": "1", "spawn_rate": "inf"}, "spawn rate"),
    ]:
        refused = httpx.post(base + "/swarm", data=form).json()
        assert refused["success"] is False and words in refused["message"], form
    assert _idle(run)

    # The UI's own page, by any of the loopback names, still drives the run.
    own = f"localhost:{port}"
    same = {"Host": own, "Origin": f"http://{own}", "Sec-Fetch-Site": "same-origin"}
    assert httpx.post(base + "/swarm", data=ONE_USER, headers=same).json()["success"] is True
    poll_until(
        lambda: httpx.get(base + "/stats/requests").json()["user_count"],
        lambda users: users == 1,
        30,
        "one user",
    )
    assert httpx.post(base + "/stop", headers=same).json()["success"] is True
    assert run.wait() == 0, run.output()
