"""What happened during a load: step starts, load window, drain, cooldown, how it ended.

Filled in by rightsizer.load.locust_driver while Locust runs; read by the run (steps, manifest).
Plain data: no Locust import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rightsizer.load.arrival import Iteration
from rightsizer.load.records import RequestRecord
from rightsizer.load.step_stats import Loss
from rightsizer.stop import COMPLETED, Stop


@dataclass
class LoadOutcome:
    """What happened, in epoch seconds; `records` holds every request exactly."""

    records: list[RequestRecord]
    step_starts: list[float] = field(default_factory=list)
    step_users: list[int] = field(default_factory=list)
    load_start: float | None = None
    load_end: float | None = None
    drain_end: float | None = None
    drain_forced: bool = False
    # Requests in flight that the drain's deadline cut (None: not counted, with workers).
    drain_cut: int | None = None
    cooldown_start: float | None = None
    cooldown_end: float | None = None
    cooldown_cut_short: bool = False
    stop: Stop = COMPLETED
    generator_warnings: list[int] = field(default_factory=list)
    workers: dict[str, Any] = field(default_factory=dict)
    lost_workers: list[Loss] = field(default_factory=list)  # workers lost during the load
    locust_errors: int = 0
    step_rates: list[float] = field(default_factory=list)  # --arrival-rate auto: each step's
    iterations: list[Iteration] = field(default_factory=list)  # an open-model load's
