"""What the Locust part of a run is given: the resolved load (`LoadSpec`) and the hooks the
rest of the run offers it (`LoadHooks`). Plain data: no Locust import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rightsizer.load.locustfile import Locustfile
from rightsizer.load.plan import RunPlan

DRAIN_TIMEOUT = 30.0


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

    @property
    def distributed(self) -> bool:
        return self.workers + self.expect_workers > 0


@dataclass(frozen=True)
class LoadHooks:
    """What the rest of the run offers the load: task CPU for the live line, and a stop
    request (an alarm's `stop-run` action) that returns the reason."""

    task_cpu: Callable[[], float | None] = lambda: None
    stop_requested: Callable[[], str | None] = lambda: None
