"""Locust's web UI for one run, with the "Tasks & alarms" tab.

    web = WebServer.create(environment, options, board, control)   # before events.init
    web.serve()     # listens; the dashboard reads the fleet once a second
    web.stop()      # after the cooldown

Created on the run's Environment the way Locust's own main creates it (delayed start, so every
route and hook is in place before the first request), with Locust's `web_login` when
`--web-auth` is given. It answers only requests addressed to where it listens and sent by no
other site (rightsizer.web.guard). Imports Locust and gevent: only the process running the load
imports it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment

from rightsizer.errors import UnavailableError
from rightsizer.web.auth import install_login
from rightsizer.web.blueprint import install, tab_arguments
from rightsizer.web.guard import HostRule
from rightsizer.web.options import WebOptions
from rightsizer.web.run_control import RunControl
from rightsizer.web.stats import Dashboard

log = logging.getLogger("rightsizer.web")
POLL_EVERY = 1.0
LISTEN_WAIT = 0.3  # for the server greenlet to bind or fail


class WebServer:
    """Locust's WebUI with rightsizer's routes, and the greenlet that feeds the dashboard."""

    def __init__(self, web_ui: Any, options: WebOptions, board: Dashboard) -> None:
        self.web_ui = web_ui
        self.options = options
        self.board = board
        self._poller: gevent.Greenlet | None = None

    @classmethod
    def create(
        cls,
        environment: Environment,
        options: WebOptions,
        board: Dashboard,
        control: RunControl,
        locustfile: Path,
    ) -> WebServer:
        """The WebUI on `environment` (it sets `environment.web_ui`), not serving yet."""
        with locust_argv(locustfile):
            web_ui = environment.create_web_ui(
                host=options.host,
                port=options.port,
                web_login=options.credentials is not None,
                delayed_start=True,
            )
        # Locust's index view calls self.update_template_args(): the instance attribute wins.
        update = _with_locust_argv(web_ui.update_template_args, locustfile)
        web_ui.update_template_args = update  # type: ignore[method-assign]
        if options.credentials is not None:
            install_login(web_ui, options.credentials)
        assert web_ui.app is not None  # WebUI sets it in __init__
        hosts = HostRule.bound_to(options.host, login=options.credentials is not None)
        install(web_ui.app, board, control, web_ui.auth_required_if_enabled, hosts)
        # update_template_args() merges into template_args: these keys stay.
        web_ui.template_args.update(tab_arguments())
        return cls(web_ui, options, board)

    def serve(self) -> None:
        """Listen; UnavailableError if the server cannot (the port was taken meanwhile)."""
        self._poller = gevent.spawn(self._poll)
        self.web_ui.start()
        gevent.sleep(LISTEN_WAIT)
        greenlet = self.web_ui.greenlet
        if greenlet is not None and greenlet.dead:
            self.stop()
            raise UnavailableError(
                f"the web UI could not listen on {self.options.host}:{self.options.port} "
                f"({greenlet.exception}); give another --web-port"
            )

    def _poll(self) -> None:
        while True:
            try:
                self.board.update()
            except Exception:  # the tab shows stale figures; the load goes on
                log.exception("reading the fleet for the web UI failed")
            gevent.sleep(POLL_EVERY)

    def stop(self) -> None:
        """Stop serving and polling (idempotent)."""
        if self._poller is not None:
            self._poller.kill(block=False)
            self._poller = None
        if self.web_ui.server is not None:
            self.web_ui.stop()
            self.web_ui.server = None


@contextlib.contextmanager
def locust_argv(locustfile: Path) -> Iterator[None]:
    """A Locust command line in sys.argv meanwhile: Locust's WebUI.update_template_args()
    parses sys.argv with Locust's parser (for the UI's extra options), and this process was
    started with rightsizer's flags, which that parser rejects by exiting the process."""
    saved = sys.argv
    sys.argv = ["locust", "-f", str(locustfile)]
    try:
        yield
    finally:
        sys.argv = saved


def _with_locust_argv(update: Callable[[], None], locustfile: Path) -> Callable[[], None]:
    """`update` (called for every index page) under `locust_argv`; a parser that still
    exits (a broken locust.conf) leaves the previous arguments, not a dead run."""

    def wrapped() -> None:
        with locust_argv(locustfile):
            try:
                update()
            except SystemExit:
                log.warning("Locust could not parse its options for the web UI; page unchanged")

    return wrapped
