"""Steps as the analysis sees them: the throughput-versus-users points the knee and the USL
use, read from the steps of steps.json (rightsizer.stepsfile, the one reader).

    steps = parse_steps(run_dir.steps())
    load_points(steps)   # one LoadPoint per step with a measured RPS, ascending users
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rightsizer.stepsfile import Step


@dataclass(frozen=True)
class LoadPoint:
    """Throughput (requests/s) measured at a number of concurrent users; `requests` is how many
    requests the figure rests on (its noise), when known."""

    users: float
    throughput: float
    requests: int | None = None


def load_points(steps: Iterable[Step]) -> tuple[LoadPoint, ...]:
    """One point per step with users and a measured RPS, in ascending users order."""
    points = [
        LoadPoint(s.users, s.rps, steady_requests(s))
        for s in steps
        if s.users > 0 and s.rps is not None
    ]
    return tuple(sorted(points, key=lambda p: p.users))


def steady_requests(step: Step) -> int | None:
    """Requests answered in the step's steady window (its RPS times its length); None unknown."""
    window = step.window
    if window is None or step.rps is None:
        return None
    return round(step.rps * (window[1] - window[0]))
