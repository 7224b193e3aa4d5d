"""What the Locust part of a run is given: the resolved load (`LoadSpec`) and the hooks the
rest of the run offers it (`LoadHooks`). Plain data: no Locust import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rightsizer.load.locustfile import Locustfile
from rightsizer.load.plan import RunPlan
from rightsizer.stop import Stop
from rightsizer.web.options import WebOptions
from rightsizer.web.stats import Dashboard

# Seconds the last requests in flight may take once the load stops; then they are cut and
# counted, so a slow target cannot hold the run (--drain-timeout).
DRAIN_TIMEOUT = 10.0


@dataclass(frozen=True)
class LoadSpec:
    """Everything the Locust part needs, resolved."""

    locustfile: Locustfile
    host: str
    plan: RunPlan
    run_dir: Path
    workers: int = 0
    expect_workers: int = 0
    master_bind_host: str = "127.0.0.1"
    master_bind_port: int = 0
    drain_timeout: float = DRAIN_TIMEOUT
    web: WebOptions | None = None  # Locust's web UI (`--web`); without steps, the UI sets them

    @property
    def distributed(self) -> bool:
        return self.workers + self.expect_workers > 0

    @property
    def ui_driven(self) -> bool:
        """The user sets the users in the web UI: the plan has no steps of its own."""
        return self.web is not None and not self.plan.users and self.plan.search is None


@dataclass(frozen=True)
class LoadHooks:
    """What the rest of the run offers the load: task CPU for the live line, a stop request
    (an alarm's `stop-run` action) that returns the reason, the place the runner tells how far
    its client-side series are complete in the store (its watermark; math.inf at the end), and
    until when the cooldown must last for the alarms, given the load's end (None: no wish),
    and with --web the data of the "Tasks & alarms" tab; whether a signal came before the load's
    own handlers were in place (while the alarms, Locust's environment and its runner were set
    up)."""

    task_cpu: Callable[[], float | None] = lambda: None
    stop_requested: Callable[[], Stop | None] = lambda: None
    client_series_complete: Callable[[float], None] = lambda until: None
    cooldown_until: Callable[[float], float | None] = lambda load_end: None
    dashboard: Dashboard | None = None
    interrupted: Callable[[], bool] = lambda: False
    # Called once the load is asked to stop early (a signal, an alarm's stop-run, the web UI):
    # the run's faults are undone then, so the requests in flight are not held up by them.
    stopping: Callable[[], None] = lambda: None
