"""rightsizer's routes and hooks on a Flask app with the routes of Locust's that they extend
(the real Locust UI is exercised in test_web_run.py, in a subprocess)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from flask_cors import CORS

from rightsizer.alarms.live import AlarmStatus
from rightsizer.alarms.state import AlarmState
from rightsizer.load.plan import MAX_SPAWN_RATE, MAX_USERS, MIN_SPAWN_RATE
from rightsizer.web.blueprint import TAB_SCRIPT, install, tab_arguments
from rightsizer.web.guard import HostRule
from rightsizer.web.run_control import RunControl, UiLimits
from rightsizer.web.source import FleetReading, TaskReading
from rightsizer.web.stats import TAB_KEY, Dashboard

TARGET = "http://127.0.0.1:8080"
LOCAL = HostRule.bound_to("127.0.0.1", login=False)
INDEX = "<html><body><div id='root'></div></body></html>"


class OneReading:
    def read(self) -> FleetReading:
        return FleetReading(50.0, (TaskReading(1, 42.0, 3.0, True),), 1)


class Run:
    """What the blueprint sees of a run: steps begun, whether it is over."""

    def __init__(self, ui_driven: bool = True) -> None:
        self.steps: list[int] = []
        self.over = False
        limits = UiLimits(MAX_USERS, MIN_SPAWN_RATE, MAX_SPAWN_RATE)
        self.control = RunControl(TARGET, ui_driven, self.steps.append, lambda: self.over, limits)


def _app(
    run: Run,
    auth: Callable[[Any], Any] = lambda view: view,
    hosts: HostRule = LOCAL,
) -> Flask:
    app = Flask("locust-stand-in")
    CORS(app)  # as Locust's WebUI does

    @app.route("/")
    def index() -> str:
        return INDEX

    @app.route("/stats/requests")
    def stats() -> Any:
        return jsonify({"state": "running", "stats": []})

    @app.route("/swarm", methods=["POST"])
    def swarm() -> Any:
        return jsonify({"success": True, "message": "Swarming started"})

    @app.route("/stop", methods=["POST"])
    def stop() -> Any:
        return jsonify({"success": True})

    alarm = AlarmStatus("cpu-high", AlarmState.ALARM, "crossed", 40.0)
    board = Dashboard(OneReading(), lambda: [alarm])
    board.update()
    install(app, board, run.control, auth, hosts)
    return app


@pytest.fixture
def run() -> Run:
    return Run()


@pytest.fixture
def client(run: Run) -> FlaskClient:
    return _app(run).test_client()


def test_stats_json(client: FlaskClient) -> None:
    reply = client.get("/rightsizer/stats")
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    doc = reply.get_json()
    assert doc["tasks"] == [
        {"id": 1, "cpu_utilization": 42.0, "memory_utilization": 3.0, "healthy": True}
    ]
    assert doc["alarms"][0]["state"] == "ALARM" and doc["alarms"][0]["reason"] == "crossed"


def test_the_charts_page_and_its_assets(client: FlaskClient) -> None:
    page = client.get("/rightsizer/")
    assert page.status_code == 200 and b'id="cpu-chart"' in page.data
    assert b"static/charts.js" in page.data
    for asset in ("charts.js", "charts.css", "tab.js"):
        reply = client.get(f"/rightsizer/static/{asset}")
        assert reply.status_code == 200 and len(reply.data) > 100
        reply.close()
    page.close()
    with client.get("/rightsizer/static/charts.js") as script:
        assert b"http" not in script.data  # no network but ./stats


def test_locusts_stats_get_the_tab_rows(client: FlaskClient) -> None:
    doc = client.get("/stats/requests").get_json()
    assert doc["state"] == "running"
    (extended,) = doc["extended_stats"]
    assert extended["key"] == TAB_KEY
    assert {"name": "task 1", "cpu": "42.0 %", "memory": "3.0 %", "state": "healthy",
            "detail": ""} in extended["data"]  # fmt: skip


def test_locusts_index_loads_the_tab_script(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert page == INDEX.replace("</body>", TAB_SCRIPT + "</body>")


def test_the_tab_is_declared_for_locusts_template() -> None:
    args = tab_arguments()
    assert args["extended_tabs"] == [{"title": "Tasks & alarms", "key": TAB_KEY}]
    (table,) = args["extended_tables"]
    assert table["key"] == TAB_KEY
    assert [c["key"] for c in table["structure"]] == ["name", "cpu", "memory", "state", "detail"]


def test_a_user_count_from_the_ui_begins_a_step(client: FlaskClient, run: Run) -> None:
    reply = client.post("/swarm", data={"user_count": "3", "spawn_rate": "1", "host": TARGET})
    assert reply.get_json()["success"] is True
    assert run.steps == [3]


def test_refused_swarms_say_why_and_begin_nothing(client: FlaskClient, run: Run) -> None:
    reply = client.post("/swarm", data={"user_count": "3", "host": "http://10.9.9.9"})
    assert reply.status_code == 200  # Locust's UI shows the message of a 200 answer
    assert reply.get_json() == {
        "success": False,
        "message": f"this run measures {TARGET}; the host cannot be changed here",
        "host": TARGET,
    }
    run.over = True
    assert "ended" in client.post("/swarm", data={"user_count": "3"}).get_json()["message"]
    assert run.steps == []


def test_a_run_with_steps_refuses_the_ui_swarm() -> None:
    run = Run(ui_driven=False)
    reply = _app(run).test_client().post("/swarm", data={"user_count": "3"})
    assert reply.get_json()["success"] is False and run.steps == []


def test_posts_from_another_site_are_refused(client: FlaskClient) -> None:
    evil = client.post("/stop", headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403
    same = client.post("/stop", headers={"Origin": "http://localhost"})
    assert same.status_code == 200
    assert client.post("/stop").status_code == 200  # no Origin: not a browser page


def test_routes_go_through_locusts_auth_decorator(run: Run) -> None:
    def deny(view: Any) -> Any:
        @functools.wraps(view)
        def denied(*args: Any, **kwargs: Any) -> Any:
            return "login", 401

        return denied

    client = _app(run, auth=deny).test_client()
    assert client.get("/rightsizer/stats").status_code == 401
    assert client.get("/rightsizer/").status_code == 401


def test_no_origin_is_echoed_on_any_answer(client: FlaskClient) -> None:
    evil = {"Origin": "http://evil.example"}
    for reply in (
        client.get("/rightsizer/stats", headers=evil),
        client.get("/stats/requests", headers=evil),
        client.get("/no-such-page", headers=evil),
        client.options("/swarm", headers={**evil, "Access-Control-Request-Method": "POST"}),
    ):
        assert not [k for k, _ in reply.headers if k.lower().startswith("access-control-")]


def test_a_rebound_name_is_refused_whatever_the_method(client: FlaskClient, run: Run) -> None:
    rebound = {"Host": "evil.example:8089", "Origin": "http://evil.example:8089"}
    swarm = client.post("/swarm", data={"user_count": "3"}, headers=rebound)
    assert swarm.status_code == 403 and "Host" in swarm.get_json()["message"]
    assert client.get("/rightsizer/stats", headers={"Host": "evil.example"}).status_code == 403
    assert client.get("/rightsizer/stats", headers={"Host": "127.0.0.1:8089"}).status_code == 200
    assert run.steps == []


def test_an_open_bind_behind_a_login_accepts_any_name(run: Run) -> None:
    client = _app(run, hosts=HostRule.bound_to("0.0.0.0", login=True)).test_client()
    assert client.get("/rightsizer/stats", headers={"Host": "ops.example"}).status_code == 200
    cross = client.post("/stop", headers={"Host": "ops.example", "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403


def test_fetches_from_other_sites_are_refused_links_still_open_pages(client: FlaskClient) -> None:
    for site in ("cross-site", "same-site"):
        post = client.post("/swarm", data={"user_count": "3"}, headers={"Sec-Fetch-Site": site})
        assert post.status_code == 403, site
        read = client.get(
            "/stats/requests", headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "cors"}
        )
        assert read.status_code == 403, site
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    assert client.get("/", headers=link).status_code == 200
    own = {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}
    assert client.post("/stop", headers=own).status_code == 200


def test_locusts_user_class_route_is_closed(client: FlaskClient) -> None:
    reply = client.post("/user", json={"user_class_name": "Reader", "host": "http://10.9.9.9"})
    assert reply.status_code == 403 and "locustfile" in reply.get_json()["message"]
