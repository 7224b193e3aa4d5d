"""Users at the SLO: the most users a run served while p95 and failures stayed within the SLO.

The SLO itself is rightsizer.slo.Slo (the one the run recorded in its manifest); this module
judges steps against it, by the one rule of rightsizer.analysis.limit (`slo_verdict`: a step
that served nothing missed it; a step that says nothing is not judged; a step left for its
repeat is not judged). Steps are judged in users order, not run order, so a run that refines
between the last good and the first bad step afterwards (1, 3, 20, then 10, 6; or a
`--users auto` search) gets the right answer. This is the SLO alone; the limit (the SLO and
the knee, bracketed) is `rightsizer.analysis.limit.limit_of_steps`.

    limit = users_at_slo(run.steps, Slo(p95_ms=1000, failure_pct=1))
    limit.last_good.users, limit.first_bad.users, limit.users   # measured, measured, estimate
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from rightsizer.analysis.limit import LimitPoint, Verdict, crossing, repeated, slo_verdict
from rightsizer.slo import Slo
from rightsizer.stepsfile import Step

# How a figure that is a step that ran (not an estimate between steps) is labelled.
MEASURED = "measured: last good step"


def verdict(step: Step, slo: Slo) -> bool | None:
    """True when `step` met `slo`, False when it missed it or served nothing (users, but no
    request sent in its steady window came back), None when it says nothing to judge."""
    judged = slo_verdict(LimitPoint.of_step(step), slo)
    return None if judged is Verdict.UNKNOWN else judged is Verdict.MET


def breaches(step: Step, slo: Slo) -> list[str]:
    """Why `step` missed `slo`, as short phrases (empty when it met it)."""
    if slo_verdict(LimitPoint.of_step(step), slo) is Verdict.SILENT:
        return ["nothing served in the steady window"]
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
    """Judge every step that says something against `slo`."""
    left = {p.index for p in repeated([LimitPoint.of_step(s) for s in steps], slo)}
    judged = sorted(
        (s for s in steps if s.index not in left and verdict(s, slo) is not None),
        key=lambda s: (s.users, s.index),
    )
    first_bad = next((s for s in judged if not verdict(s, slo)), None)
    below = [s for s in judged if first_bad is None or s.users < first_bad.users]
    good = [s for s in below if verdict(s, slo)]
    last_good = good[-1] if good else None
    if first_bad is None:
        users = float(last_good.users) if last_good else None
        return SloLimit(slo, last_good, None, users)
    reasons = tuple(breaches(first_bad, slo))
    estimate = crossing(slo, last_good, first_bad)
    if estimate is None:
        fallback = float(last_good.users) if last_good else None
        return SloLimit(slo, last_good, first_bad, fallback, reasons)
    return SloLimit(slo, last_good, first_bad, estimate, reasons, interpolated=True)


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
