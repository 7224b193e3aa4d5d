"""The knee: the number of users where throughput stops growing with users.

A closed system (users who wait, then send) has two bounds on throughput X at N users:
X <= N / (D + Z) while the service keeps up (each user adds the same rate), and X <= Xmax once
the bottleneck is saturated. The knee is where the two lines meet, N* = Xmax * (D + Z) (the
"N*" of operational analysis, Lazowska et al., ch. 5). We measure both lines instead of
knowing D and Z: the per-user rate from the low-load steps and Xmax as the highest throughput.

    knee = find_knee([LoadPoint(1, 0.6), LoadPoint(5, 3.1), LoadPoint(20, 5.2)])
    knee.users, knee.reached
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from rightsizer.analysis.step_points import LoadPoint

# The highest step is off the linear part when its throughput is below this share of what the
# lower steps' rate predicts (less the statistical noise of the figures, when counts are known).
LINEAR_SHARE = 0.85
# ... or when it has this many times the users of the highest linear step and no more
# throughput: a plateau shows there before the line falls 15% behind.
PLATEAU_USERS = 1.1


@dataclass(frozen=True)
class Knee:
    """Where throughput stops growing with users.

    `users`: N* (fractional); `peak_throughput`: Xmax in requests/s; `per_user_throughput`:
    the low-load rate per user; `reached`: the highest steps fell clearly below linear growth,
    so the plateau was measured (otherwise N* is only a lower bound); `last_linear_users`: the
    highest measured users still on the linear part."""

    users: float
    peak_throughput: float
    per_user_throughput: float
    reached: bool
    last_linear_users: float

    def passed(self, users: float) -> bool:
        """`users` lie past the knee (the limit rule's knee test): it was reached and they are
        above N*, where the throughput bound Xmax takes over from the per-user line. Not the
        linear part's top: steps just past N* still join it within LINEAR_SHARE's tolerance,
        yet their throughput is already Xmax's (each added user only queues), and a rule that
        let them pass would answer N* on one run and the SLO further out on the next."""
        return self.reached and users > self.users


def find_knee(points: Sequence[LoadPoint]) -> Knee | None:
    """The knee of a throughput-versus-users curve; None without a usable point.

    The linear part grows from the lowest step up: a step joins it unless it falls below the
    line through the steps under it; the first that falls below ends it when every higher step
    falls below that line too, or stays flat (otherwise the dip was noise and the step joins).
    So the rate per user rests on the steps that still grow linearly (their median: see
    `_slope`), several steps past the knee cannot pull the line down to meet them, and one
    noisy 1-user step cannot fake a knee (its few requests widen the tolerance)."""
    ordered = sorted((p for p in points if p.users > 0 and p.throughput > 0), key=_users)
    if not ordered:
        return None
    peak = max(p.throughput for p in ordered)
    split = next(
        (k for k in range(1, len(ordered)) if _all_below(ordered[:k], ordered[k:])),
        len(ordered),
    )
    linear = ordered[:split]
    rate = _slope(linear)
    if not (rate > 0 and math.isfinite(peak / rate)):
        return None  # rates so small they underflow: nothing measurable to place a knee by
    return Knee(
        users=peak / rate,
        peak_throughput=peak,
        per_user_throughput=rate,
        reached=split < len(ordered),
        last_linear_users=linear[-1].users,
    )


def _all_below(linear: Sequence[LoadPoint], higher: Sequence[LoadPoint]) -> bool:
    """Every higher step is clearly off the line through `linear`: below LINEAR_SHARE of it,
    or on a plateau (see `_flat`)."""
    rate = _slope(linear)
    return all(
        p.throughput < rate * p.users * (LINEAR_SHARE - _noise(linear, p)) or _flat(linear[-1], p)
        for p in higher
    )


def _flat(top: LoadPoint, higher: LoadPoint) -> bool:
    """`higher` has at least PLATEAU_USERS times the users of the top linear step `top` and no
    more throughput than it, within the noise: the plateau itself, before the line falls far
    enough behind for LINEAR_SHARE to see it."""
    noise = _noise([top], higher)
    if higher.users < PLATEAU_USERS * top.users or noise >= LINEAR_SHARE:
        return False
    return higher.throughput <= top.throughput * (1 + noise)


def _slope(points: Sequence[LoadPoint]) -> float:
    """The median of the steps' throughput per user. Steps just past the knee (up to 15% below
    the line) still join the linear part; a least-squares line would weigh them most, being
    the largest, and bend towards the plateau, putting N* too far out. The median keeps to
    the line while they are fewer than half."""
    return statistics.median(p.throughput / p.users for p in points)


def _noise(rest: Sequence[LoadPoint], last: LoadPoint) -> float:
    """Relative standard error of comparing `last` with `rest` (Poisson counts), 0 unknown."""
    counts = [p.requests for p in rest]
    if last.requests is None or any(c is None for c in counts):
        return 0.0
    below = sum(c for c in counts if c is not None)
    if below <= 0 or last.requests <= 0:
        return LINEAR_SHARE  # nothing to compare with: never call it a knee
    return math.sqrt(1 / below + 1 / last.requests)


def _users(point: LoadPoint) -> float:
    return point.users
