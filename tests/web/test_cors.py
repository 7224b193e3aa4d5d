"""No Access-Control-* header leaves an app that flask-cors set up as Locust's WebUI does."""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

from rightsizer.web.cors import WithoutCors

EVIL = {"Origin": "http://evil.example"}


def _app(strip: bool) -> Flask:
    app = Flask("cors-stand-in")
    CORS(app)

    @app.route("/ok")
    def ok() -> str:
        return "ok"

    @app.route("/broken")
    def broken() -> str:
        raise RuntimeError("broken")

    if strip:
        app.wsgi_app = WithoutCors(app.wsgi_app)  # type: ignore[method-assign]
    return app


def _cors_headers(app: Flask, path: str) -> list[str]:
    reply = app.test_client().get(path, headers=EVIL)
    return [k for k, _ in reply.headers if k.lower().startswith("access-control-")]


def test_flask_cors_echoes_the_origin_without_it() -> None:
    assert _cors_headers(_app(strip=False), "/ok") == ["Access-Control-Allow-Origin"]


def test_no_answer_carries_cors_headers() -> None:
    app = _app(strip=True)
    for path in ("/ok", "/broken", "/missing"):
        assert _cors_headers(app, path) == [], path
    assert app.test_client().get("/ok", headers=EVIL).text == "ok"
