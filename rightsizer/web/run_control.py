"""What the web UI may ask of a run, and what it is refused.

Locust's UI starts load with `POST /swarm` (user_count, spawn_rate, host). Here that is allowed
only while the user drives the run (no --users), never after the run's load is over (the UI
offers "New test" after Stop: the run directory is being written), never to another host than
the run's target (its samples would describe the wrong system), with 1 to `max_users` users
(Stop ends the run) and a spawn rate within the one `--spawn-rate` accepts: the command line's
own limits, which the run hands over (`UiLimits`, from rightsizer.load.plan). Pure: a form in,
a refusal message or None out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class UiLimits:
    """The most users, and the spawn rates, the UI may ask for: the command line's own."""

    max_users: int
    min_spawn_rate: float
    max_spawn_rate: float


@dataclass(frozen=True)
class RunControl:
    """The run as the web UI sees it: its target, who drives it, hooks into it, its limits."""

    target: str
    ui_driven: bool
    begin_step: Callable[[int], object]
    over: Callable[[], bool]
    limits: UiLimits


def swarm_refusal(form: Mapping[str, str], control: RunControl) -> str | None:
    """Why `POST /swarm` with `form` is refused, or None when Locust may go ahead."""
    if control.over():
        return "this run has ended; start another `rightsizer run --web` for a new test"
    if not control.ui_driven:
        return "this run's steps come from --users and run by themselves; Stop ends the run"
    host = form.get("host")
    if host and host.strip().rstrip("/") != control.target.rstrip("/"):
        return f"this run measures {control.target}; the host cannot be changed here"
    limits = control.limits
    users = requested_users(form)
    if users is None or not 1 <= users <= limits.max_users:
        return f"give a whole number of users from 1 to {limits.max_users} (Stop ends the run)"
    rate = form.get("spawn_rate")
    if rate is not None and not _rate_allowed(rate, limits):
        return (
            f"give a spawn rate from {limits.min_spawn_rate:g} to {limits.max_spawn_rate:g} "
            "users a second"
        )
    return None


def _rate_allowed(text: str, limits: UiLimits) -> bool:
    try:
        rate = float(text)  # as Locust reads it
    except ValueError:
        return False
    return math.isfinite(rate) and limits.min_spawn_rate <= rate <= limits.max_spawn_rate


def requested_users(form: Mapping[str, str]) -> int | None:
    """The user count of an accepted `POST /swarm`."""
    count = form.get("user_count", "").strip()
    return int(count) if count.isascii() and count.isdigit() else None
