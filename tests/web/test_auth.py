"""`--web-auth` on a Flask app with the parts of Locust's WebUI that `install_login` uses (its
login manager, login page and a protected route): who gets in, and the throttle on failures.
The real Locust UI is exercised in test_server.py and tests/security/test_web_login.py."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient
from flask_login import LoginManager, login_required

from rightsizer.web.auth import LOGIN_PATH, install_login
from rightsizer.web.options import Credentials
from rightsizer.web.throttle import LoginThrottle

RIGHT, WRONG = ("ops", "s3cret-pw"), ("ops", "guess")
ATTACKER, OPERATOR = {"REMOTE_ADDR": "192.0.2.66"}, {"REMOTE_ADDR": "192.0.2.7"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class WebUiStandIn:
    """What `install_login` touches of Locust's WebUI."""

    def __init__(self) -> None:
        self.app = Flask("locust-stand-in")
        self.login_manager = LoginManager()
        self.login_manager.init_app(self.app)
        self.login_manager.login_view = "locust.login"
        self.auth_args: dict[str, Any] = {}
        locust = Blueprint("locust", __name__)

        @locust.route("/")
        @login_required  # type: ignore[untyped-decorator]
        def index() -> str:
            return "index"

        @locust.route("/login")
        def login() -> str:
            return "login page"

        @locust.route("/stats/requests")
        @login_required  # type: ignore[untyped-decorator]
        def stats() -> Any:
            return jsonify({"state": "ready"})

        self.app.register_blueprint(locust)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(clock)


@pytest.fixture
def client(throttle: LoginThrottle) -> FlaskClient:
    web_ui = WebUiStandIn()
    assert install_login(web_ui, Credentials(*RIGHT), throttle) is throttle
    return web_ui.app.test_client()


def _basic(client: FlaskClient, auth: tuple[str, str], who: dict[str, str]) -> int:
    return client.get("/stats/requests", auth=auth, environ_base=who).status_code


def test_basic_auth_and_the_login_form(client: FlaskClient) -> None:
    assert client.get("/stats/requests").status_code == 401
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302
    assert _basic(client, RIGHT, OPERATOR) == 200
    form = client.post(LOGIN_PATH, data={"username": RIGHT[0], "password": RIGHT[1]})
    assert form.status_code == 302 and form.headers["Location"] == "/"
    assert client.get("/stats/requests").status_code == 200  # the session


def test_parallel_guesses_get_429_without_being_checked(
    client: FlaskClient, throttle: LoginThrottle, clock: Clock
) -> None:
    assert _basic(client, WRONG, ATTACKER) == 401
    # However many arrive meanwhile, and even the right password: refused, not checked.
    assert [_basic(client, WRONG, ATTACKER) for _ in range(20)] == [429] * 20
    locked = client.get("/stats/requests", auth=RIGHT, environ_base=ATTACKER)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
    assert throttle.refused == 21
    assert _basic(client, RIGHT, OPERATOR) == 200  # another client is not locked out
    clock.now += 1.0
    assert _basic(client, WRONG, ATTACKER) == 401
    assert client.get("/stats/requests", auth=WRONG, environ_base=ATTACKER).headers[
        "Retry-After"
    ] == "2"  # fmt: skip


def test_the_login_form_is_throttled_too(client: FlaskClient, clock: Clock) -> None:
    def submit(password: str) -> int:
        form = {"username": "ops", "password": password}
        return client.post(LOGIN_PATH, data=form, environ_base=ATTACKER).status_code

    assert submit("guess") == 302  # back to the login page, with an error
    assert submit("guess") == 429 and submit(RIGHT[1]) == 429
    clock.now += 1.0
    assert submit(RIGHT[1]) == 302  # in
    assert submit("guess") == 302  # the success forgot the failures: one more try
