"""rightsizer's part of Locust's Flask app, through Locust's extension points.

Routes (all behind Locust's login when `--web-auth` is given):

    GET /rightsizer/        the live charts page: per task CPU % and memory % with the alarm
                            thresholds as lines, alarm states, healthy hosts (polls /stats)
    GET /rightsizer/stats   {"tasks": [{"id", "cpu_utilization", "memory_utilization",
                            "healthy"}], "alarms": [{"name", "state", "reason", "since",
                            "metric", "threshold", ...}], "healthy_hosts", "reservation",
                            "sampled_at", "time", "series": {task id: {"t", "cpu", "memory"}}}

On Locust's own routes: its `/stats/requests` JSON gets `extended_stats` (the rows of the
"Tasks & alarms" tab, declared in `template_args`), its index page loads `tab.js` (which shows
the charts page inside that tab), and `POST /swarm` goes through `control.swarm_refusal`.
Every request first passes the cross-site guard (rightsizer.web.guard: Host, Sec-Fetch-Site,
Origin), so a web page cannot start load from a browser; answers carry no CORS headers
(rightsizer.web.cors), so no other site can read them; Locust's `POST /user`, which would set
any attribute of a user class (its host among them), is closed. Imports Flask, not Locust.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request, send_from_directory

from rightsizer.web.cors import WithoutCors
from rightsizer.web.guard import HostRule, cross_site_refusal
from rightsizer.web.run_control import RunControl, requested_users, swarm_refusal
from rightsizer.web.stats import TAB_COLUMNS, TAB_KEY, TAB_TITLE, Dashboard

PREFIX = "/rightsizer"
STATIC = Path(__file__).with_name("static")
TEMPLATES = Path(__file__).with_name("templates")
TAB_SCRIPT = f'<script src=".{PREFIX}/static/tab.js" defer></script>'
USER_CLASS_PATH = "/user"
# Locust's `auth_required_if_enabled`: a view in, the view behind its login out.
Auth = Callable[[Callable[..., Any]], Callable[..., Any]]


def tab_arguments() -> dict[str, Any]:
    """Locust's `template_args` for the tab, and a link under "Download Data"."""
    return {
        "extended_tabs": [{"title": TAB_TITLE, "key": TAB_KEY}],
        "extended_tables": [
            {"key": TAB_KEY, "structure": [{"key": k, "title": t} for k, t in TAB_COLUMNS]}
        ],
        "extended_csv_files": [
            {"href": f".{PREFIX}/", "title": "Tasks & alarms: live charts (page)"},
            {"href": f".{PREFIX}/stats", "title": "Tasks & alarms: JSON"},
        ],
    }


def blueprint(board: Dashboard, auth: Auth) -> Blueprint:
    """The /rightsizer routes; `auth` is Locust's `auth_required_if_enabled`."""
    routes = Blueprint(
        "rightsizer",
        __name__,
        url_prefix=PREFIX,
        static_folder=str(STATIC),
        static_url_path="/static",
    )

    @routes.route("/")
    @auth
    def charts() -> Response:
        return send_from_directory(TEMPLATES, "charts.html", max_age=0)

    @routes.route("/stats")
    @auth
    def stats() -> Response:
        response = jsonify(board.document(time.time()))
        response.headers["Cache-Control"] = "no-store"
        return response

    return routes


def install(app: Flask, board: Dashboard, control: RunControl, auth: Auth, hosts: HostRule) -> None:
    """Register the routes and hooks on Locust's app (before it serves); `hosts` says which
    Host headers the guard accepts."""
    app.register_blueprint(blueprint(board, auth))
    app.wsgi_app = WithoutCors(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def guard() -> Response | None:
        headers = request.headers
        refusal = cross_site_refusal(request.method, request.path, request.host, headers, hosts)
        if refusal is not None:
            return _refused(refusal, 403)
        if request.path == USER_CLASS_PATH:
            return _refused("refused: the user classes are the locustfile's; edit it there", 403)
        if request.method == "POST" and request.path == "/swarm":
            reason = swarm_refusal(request.form, control)
            if reason is not None:  # as Locust answers a bad form: 200, success false
                return _refused(reason, 200, host=control.target)
        return None

    @app.after_request
    def extend(response: Response) -> Response:
        if response.status_code != 200:
            return response
        if request.path == "/stats/requests" and response.is_json:
            rows = board.table_rows()
            document = {**response.get_json(), "extended_stats": [{"key": TAB_KEY, "data": rows}]}
            response.set_data(json.dumps(document))
        elif request.path == "/" and response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            response.set_data(page.replace("</body>", TAB_SCRIPT + "</body>", 1))
        elif request.path == "/swarm" and request.method == "POST" and control.ui_driven:
            users = requested_users(request.form)
            if users is not None and (response.get_json(silent=True) or {}).get("success"):
                control.begin_step(users)
        return response


def _refused(message: str, code: int, **extra: str) -> Response:
    response = jsonify({"success": False, "message": message, **extra})
    response.status_code = code
    return response
