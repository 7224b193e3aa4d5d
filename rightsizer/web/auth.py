"""`--web-auth USER:PASS` through Locust's own login (`web_login`, flask-login), two ways in:

- a browser: any page without a session goes to Locust's login page, whose form posts to
  /rightsizer/login; the session cookie (signed with a key made for this run, SameSite=Lax)
  then opens every route;
- a script: HTTP Basic on any request (`curl -u USER:PASS .../rightsizer/stats`).

Without either, a page request (Accept: text/html) is redirected to the login page and
anything else gets 401 with `WWW-Authenticate: Basic`. A wrong password locks that client
(its address) out for a second, then two, four, ... (rightsizer.web.throttle): meanwhile its
login attempts, right or wrong, get 429 with `Retry-After` and are not checked.
Imports Flask and flask-login, not Locust: `install_login` is given Locust's WebUI.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Flask, Response, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import UserMixin, login_user

from rightsizer.web.options import Credentials
from rightsizer.web.throttle import LoginThrottle, retry_header

LOGIN_PATH = "/rightsizer/login"
REALM = 'Basic realm="rightsizer", charset="UTF-8"'


class User(UserMixin):  # type: ignore[misc]  # flask-login is untyped
    """The one user `--web-auth` names."""

    def __init__(self, name: str) -> None:
        self.name = name

    def get_id(self) -> str:
        return self.name


def install_login(
    web_ui: Any, credentials: Credentials, throttle: LoginThrottle | None = None
) -> LoginThrottle:
    """Make Locust's WebUI (created with `web_login=True`) accept `credentials` only; failed
    attempts are counted in `throttle` (a new one by default), which is returned."""
    throttle = throttle if throttle is not None else LoginThrottle()
    app: Flask = web_ui.app
    app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    manager = web_ui.login_manager

    @manager.user_loader  # type: ignore[untyped-decorator]
    def from_session(user_id: str) -> User | None:
        return User(user_id) if user_id == credentials.user else None

    @manager.request_loader  # type: ignore[untyped-decorator]
    def from_basic(_: Any) -> User | None:
        given = request.authorization
        if given is None or given.type != "basic":
            return None
        if credentials.matches(given.username or "", given.password or ""):
            throttle.succeeded(request.remote_addr)
            return User(credentials.user)
        throttle.failed(request.remote_addr)
        return None

    @manager.unauthorized_handler  # type: ignore[untyped-decorator]
    def unauthorized() -> ResponseReturnValue:
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            return redirect(url_for("locust.login"))
        response = Response("login required: give the --web-auth user and password\n", 401)
        response.headers["WWW-Authenticate"] = REALM
        return response

    @app.before_request
    def locked_out() -> ResponseReturnValue | None:
        attempt = request.authorization is not None or (
            request.method == "POST" and request.path == LOGIN_PATH
        )
        wait = throttle.retry_after(request.remote_addr) if attempt else None
        if wait is None:
            return None
        response = Response(
            f"too many failed logins from your address; try again in {retry_header(wait)} s\n",
            429,
            mimetype="text/plain",
        )
        response.headers["Retry-After"] = retry_header(wait)
        return response

    web_ui.auth_args = {"username_password_callback": LOGIN_PATH}
    routes = Blueprint("rightsizer_login", __name__)

    @routes.route(LOGIN_PATH, methods=["POST"])
    def login_submit() -> ResponseReturnValue:
        user = request.form.get("username", "")
        if credentials.matches(user, request.form.get("password", "")):
            throttle.succeeded(request.remote_addr)
            login_user(User(credentials.user))
            return redirect(url_for("locust.index"))
        throttle.failed(request.remote_addr)
        session["auth_error"] = "Invalid username or password"
        return redirect(url_for("locust.login"))

    app.register_blueprint(routes)
    return throttle
