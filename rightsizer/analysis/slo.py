"""Users at the SLO: the most users a run served while p95 and failures stayed within the SLO.

Steps are judged in users order, not run order, so a demo that refines between the last good
and the first bad step afterwards (1, 3, 20, then 10, 6) gets the right answer.

    limit = users_at_slo(run.steps, Slo(p95_ms=1000, failure_pct=1))
    limit.last_good.users, limit.first_bad.users, limit.users   # measured, measured, estimate
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from rightsizer.analysis.steps import Slo, Step


@dataclass(frozen=True)
class SloLimit:
    """`last_good`: the highest-users step below the first bad one that met the SLO;
    `first_bad`: the lowest-users step that broke it; `users`: where the SLO breaks,
    interpolated linearly between the two on the breaking figure (p95 or failures), or the
    last good step's users when nothing broke (then it is a lower bound: `broke` is False)."""

    slo: Slo
    last_good: Step | None
    first_bad: Step | None
    users: float | None
    reasons: tuple[str, ...] = ()

    @property
    def broke(self) -> bool:
        return self.first_bad is not None

    @property
    def measured_users(self) -> int | None:
        """Users of the last good step: the conservative, measured answer."""
        return self.last_good.users if self.last_good else None


def users_at_slo(steps: Sequence[Step], slo: Slo) -> SloLimit:
    """Judge every step that has a p95 against `slo`."""
    judged = sorted((s for s in steps if slo.met_by(s) is not None), key=lambda s: s.users)
    first_bad = next((s for s in judged if not slo.met_by(s)), None)
    below = [s for s in judged if first_bad is None or s.users < first_bad.users]
    good = [s for s in below if slo.met_by(s)]
    last_good = good[-1] if good else None
    if first_bad is None:
        users = float(last_good.users) if last_good else None
        return SloLimit(slo, last_good, None, users)
    reasons = tuple(slo.breaches(first_bad))
    return SloLimit(slo, last_good, first_bad, _crossing(slo, last_good, first_bad), reasons)


def _crossing(slo: Slo, good: Step | None, bad: Step) -> float | None:
    if good is None:
        return None
    estimates = []
    for limit, low, high in (
        (slo.p95_ms, good.p95_ms, bad.p95_ms),
        (slo.failure_pct, good.failure_pct, bad.failure_pct),
    ):
        if low is not None and high is not None and high >= limit > low:
            share = (limit - low) / (high - low)
            estimates.append(good.users + share * (bad.users - good.users))
    return min(estimates) if estimates else float(good.users)


def first_breach_time(steps: Sequence[Step], slo: Slo) -> float | None:
    """Epoch second at which the first step (in run order) that broke the SLO began."""
    broken = [s for s in steps if slo.met_by(s) is False and s.start is not None]
    return min((s.start for s in broken if s.start is not None), default=None)


def value_at_users(steps: Sequence[Step], users: float, attribute: str) -> float | None:
    """A step figure (e.g. "cpu_utilization") at `users`, interpolated linearly between the
    neighbouring steps; None outside the measured range or without values."""
    known = sorted(
        (s.users, value)
        for s in steps
        if isinstance(value := getattr(s, attribute), int | float) and not isinstance(value, bool)
    )
    for (u0, v0), (u1, v1) in itertools.pairwise(known):
        if u0 <= users <= u1:
            return v0 if u1 == u0 else v0 + (users - u0) / (u1 - u0) * (v1 - v0)
    return next((v for u, v in known if u == users), None)
