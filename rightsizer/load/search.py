"""Where does this fleet break? Choose each load step from the steps measured so far.

The search raises users until the SLO breaks or CPU saturates, then bisects between the last
good and the first bad step. It does not raise blindly: CPU grows about linearly with users
below saturation, so each good step predicts where CPU would reach saturation, and the next
step aims just below that prediction (bounded by `growth` times the last step, so a noisy first
reading cannot send it far past the break).

    search = UserSearch(SearchLimits(tasks=1))
    users = search.next_users([])            # the first step
    users = search.next_users(done_steps)    # None when the answer is bracketed
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from rightsizer.slo import Slo


@dataclass(frozen=True)
class StepOutcome:
    """What the search needs to know about one finished step."""

    users: int
    p95_ms: float | None
    fail_ratio: float
    cpu_utilization: float | None


@dataclass(frozen=True)
class SearchLimits:
    """How the search moves: start, growth, saturation, how many steps at most."""

    tasks: int
    first_users_per_task: int = 10
    growth: float = 8.0
    aim: float = 0.9
    saturation_cpu: float = 95.0
    slo: Slo = field(default_factory=Slo)
    max_steps: int = 9
    refine_steps: int = 2
    max_users: int = 6000
    resolution: float = 0.06


class UserSearch:
    """Stateless policy: the next step's user count follows from the steps done so far."""

    def __init__(self, limits: SearchLimits) -> None:
        self.limits = limits

    def is_bad(self, step: StepOutcome) -> bool:
        """A step past the limit: SLO broken or CPU saturated."""
        lim = self.limits
        if step.p95_ms is None:  # nothing came back in the steady window
            return True
        saturated = step.cpu_utilization is not None and step.cpu_utilization >= lim.saturation_cpu
        return saturated or not lim.slo.met(step.p95_ms, step.fail_ratio * 100)

    def next_users(self, done: Sequence[StepOutcome]) -> int | None:
        lim = self.limits
        if not done:
            return min(lim.max_users, lim.first_users_per_task * lim.tasks)
        if len(done) >= lim.max_steps:
            return None
        bad = [s for s in done if self.is_bad(s)]
        if not bad:
            return self._raise(done)
        return self._refine(done, bad)

    def _raise(self, done: Sequence[StepOutcome]) -> int | None:
        lim = self.limits
        last = max(done, key=lambda s: s.users)
        if last.users >= lim.max_users:
            return None
        ceiling = last.users * lim.growth
        target = ceiling
        predicted = self.predicted_saturation(done)
        if predicted is not None:
            # Aim under the predicted saturation, but always move up by at least a quarter.
            target = min(ceiling, max(last.users * 1.25, predicted * lim.aim))
            if last.users >= predicted * lim.aim:
                target = min(ceiling, max(last.users * 1.25, predicted * 1.1))
        return min(lim.max_users, math.ceil(target))

    def _refine(self, done: Sequence[StepOutcome], bad: Sequence[StepOutcome]) -> int | None:
        lim = self.limits
        first_bad = min(s.users for s in bad)
        good_below = [s.users for s in done if not self.is_bad(s) and s.users < first_bad]
        low = max(good_below, default=0)
        first_bad_index = next(i for i, s in enumerate(done) if self.is_bad(s))
        refined = len(done) - first_bad_index - 1
        if refined >= lim.refine_steps or first_bad - low <= max(1, lim.resolution * first_bad):
            return None
        tried = {s.users for s in done}
        middle = (low + first_bad) // 2 if low else max(1, first_bad // 2)
        return None if middle in tried else middle

    def predicted_saturation(self, done: Sequence[StepOutcome]) -> float | None:
        """Users at which CPU would reach the saturation level, from the good steps'
        CPU per user (a least-squares line through the origin); None without CPU data."""
        points = [
            (s.users, s.cpu_utilization)
            for s in done
            if s.cpu_utilization is not None and s.cpu_utilization > 1.0 and not self.is_bad(s)
        ]
        if not points:
            return None
        slope = sum(u * c for u, c in points) / sum(u * u for u, _ in points)
        return self.limits.saturation_cpu / slope if slope > 0 else None

    def bracket(self, done: Sequence[StepOutcome]) -> tuple[int | None, int | None]:
        """(most users of a good step below the first bad, fewest users of a bad step)."""
        bad = [s.users for s in done if self.is_bad(s)]
        first_bad = min(bad) if bad else None
        good = [
            s.users
            for s in done
            if not self.is_bad(s) and (first_bad is None or s.users < first_bad)
        ]
        return (max(good) if good else None, first_bad)
