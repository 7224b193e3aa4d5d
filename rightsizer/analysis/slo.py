"""Users at the SLO: the most users a run served while p95 and failures stayed within the SLO.

The SLO itself is rightsizer.slo.Slo (the one the run recorded in its manifest); this module
judges steps against it. Steps are judged in users order, not run order, so a run that refines
between the last good and the first bad step afterwards (1, 3, 20, then 10, 6; or a
`--users auto` search) gets the right answer.

    limit = users_at_slo(run.steps, Slo(p95_ms=1000, failure_pct=1))
    limit.last_good.users, limit.first_bad.users, limit.users   # measured, measured, estimate
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from rightsizer.analysis.steps import Step
from rightsizer.slo import Slo

# How a figure that is a step that ran (not an estimate between steps) is labelled.
MEASURED = "measured: last good step"


def verdict(step: Step, slo: Slo) -> bool | None:
    """True when `step` met `slo`, False when it missed it, None when it measured no p95
    (no request finished in its steady window: nothing to judge)."""
    if step.p95_ms is None:
        return None
    return slo.met(step.p95_ms, step.failure_pct)


def breaches(step: Step, slo: Slo) -> list[str]:
    """Why `step` missed `slo`, as short phrases (empty when it met it)."""
    return slo.breaches(step.p95_ms, step.failure_pct)


@dataclass(frozen=True)
class SloLimit:
    """`last_good`: the highest-users step below the first bad one that met the SLO;
    `first_bad`: the lowest-users step that broke it; `users`: where the SLO breaks,
    interpolated linearly between the two on the breaking figure (p95 or failures), or the
    last good step's users when nothing broke (then it is a lower bound: `broke` is False).
    `interpolated` says whether `users` is such an estimate rather than a measured step."""

    slo: Slo
    last_good: Step | None
    first_bad: Step | None
    users: float | None
    reasons: tuple[str, ...] = ()
    interpolated: bool = False

    @property
    def broke(self) -> bool:
        return self.first_bad is not None

    @property
    def measured_users(self) -> int | None:
        """Users of the last good step: the conservative, measured answer."""
        return self.last_good.users if self.last_good else None


def users_at_slo(steps: Sequence[Step], slo: Slo) -> SloLimit:
    """Judge every step that has a p95 against `slo`."""
    judged = sorted(
        (s for s in steps if verdict(s, slo) is not None), key=lambda s: (s.users, s.index)
    )
    first_bad = next((s for s in judged if not verdict(s, slo)), None)
    below = [s for s in judged if first_bad is None or s.users < first_bad.users]
    good = [s for s in below if verdict(s, slo)]
    last_good = good[-1] if good else None
    if first_bad is None:
        users = float(last_good.users) if last_good else None
        return SloLimit(slo, last_good, None, users)
    reasons = tuple(breaches(first_bad, slo))
    crossing = _crossing(slo, last_good, first_bad)
    if crossing is None:
        fallback = float(last_good.users) if last_good else None
        return SloLimit(slo, last_good, first_bad, fallback, reasons)
    return SloLimit(slo, last_good, first_bad, crossing, reasons, interpolated=True)


def _crossing(slo: Slo, good: Step | None, bad: Step) -> float | None:
    """Where the breaking figure crosses its limit between `good` and `bad`; None when no
    figure can be interpolated (no good step, or the figures do not bracket the limit)."""
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
    return min(estimates) if estimates else None


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
