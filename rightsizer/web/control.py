"""What the web UI may ask of a run, and what it is refused.

Locust's UI starts load with `POST /swarm` (user_count, spawn_rate, host). Here that is allowed
only while the user drives the run (no --users), never after the run's load is over (the UI
offers "New test" after Stop: the run directory is being written), never to another host than
the run's target (its samples would describe the wrong system), and with at least one user
(Stop ends the run). Pure: a form in, a refusal message or None out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RunControl:
    """The run as the web UI sees it: its target, who drives it, and hooks into it."""

    target: str
    ui_driven: bool
    begin_step: Callable[[int], object]
    over: Callable[[], bool]


def swarm_refusal(form: Mapping[str, str], control: RunControl) -> str | None:
    """Why `POST /swarm` with `form` is refused, or None when Locust may go ahead."""
    if control.over():
        return "this run has ended; start another `rightsizer run --web` for a new test"
    if not control.ui_driven:
        return "this run's steps come from --users and run by themselves; Stop ends the run"
    host = form.get("host")
    if host and host.strip().rstrip("/") != control.target.rstrip("/"):
        return f"this run measures {control.target}; the host cannot be changed here"
    users = requested_users(form)
    if users is None or users < 1:
        return "give a whole number of users, at least 1 (Stop ends the run)"
    return None


def requested_users(form: Mapping[str, str]) -> int | None:
    """The user count of an accepted `POST /swarm`."""
    count = form.get("user_count", "").strip()
    return int(count) if count.isascii() and count.isdigit() else None
