"""No CORS for the web UI: answers carry no Access-Control-* header, whatever the Origin.

    app.wsgi_app = WithoutCors(app.wsgi_app)

Locust's WebUI calls `CORS(app)` (flask-cors) in its constructor, which echoes any Origin in
`Access-Control-Allow-Origin` (on error answers too, by wrapping Flask's exception handlers),
so any page the operator opens could read the run's live figures. Locust's files stay as they
are: this WSGI middleware, the outermost layer of the app, takes those headers off every
answer, so a browser keeps other sites' pages from reading ours (same-origin policy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CORS_PREFIX = "access-control-"


class WithoutCors:
    """`app` with every Access-Control-* header taken off its answers."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None, /
        ) -> Callable[[bytes], object]:
            kept = [(k, v) for k, v in headers if not k.lower().startswith(CORS_PREFIX)]
            return start_response(status, kept, exc_info)

        return self.app(environ, start)
