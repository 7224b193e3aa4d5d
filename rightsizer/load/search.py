"""Where does this fleet break? Choose each load step from the steps measured so far.

The search raises users until the SLO breaks, then bisects between the last good and the first
bad step. It does not raise blindly:

- below saturation CPU grows about linearly with users, so the good steps predict where CPU
  saturates, and the steps climb towards it at `ramp` shares of that prediction (at most
  `growth` times the last step, so a noisy first reading cannot send it far past the break).
  The climb is gradual on purpose: CPU then crosses each alarm threshold in its own step, and
  replaying an alarm over the run tells how early each threshold would have fired;
- once CPU is saturated, throughput stops growing (the knee) but a closed-loop load (users who
  wait for answers, then think) breaks the SLO only some way further, when queueing delay
  reaches it. Little's law says where: N = X (Z + R) for N users, throughput X, think time Z
  and response time R, so with X at its peak and R at the SLO's mean the users follow. The
  next step aims past that by `past_knee_aim` (between `past_knee_growth` and `growth` times
  the last step), so that it breaks the SLO and the bisection can start.

A fleet whose SLO never breaks stops at `max_users` or after `max_steps`.

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
    rps: float | None = None
    p50_ms: float | None = None


@dataclass(frozen=True)
class SearchLimits:
    """How the search moves: where it starts, how fast it grows, when it stops.

    `first_users` overrides the start of `first_users_per_task` x `tasks` (a second fleet can
    start near what a first one measured)."""

    tasks: int
    first_users_per_task: int = 10
    first_users: int | None = None
    growth: float = 8.0
    ramp: tuple[float, ...] = (0.6, 0.9, 1.1)
    saturation_cpu: float = 95.0
    past_knee_growth: float = 1.1
    # Past the knee, aim this far beyond the predicted SLO break: short steps see less
    # queueing than the steady state the prediction assumes, and a step that breaks the SLO
    # is what the bisection needs next.
    past_knee_aim: float = 1.3
    past_knee_retry: float = 1.5
    # The mean response time when p95 reaches the SLO, as a share of it (queueing spreads
    # response times: p95 is about twice the mean).
    slo_mean_share: float = 0.5
    slo: Slo = field(default_factory=Slo)
    max_steps: int = 9
    refine_steps: int = 2
    max_users: int = 6000
    resolution: float = 0.06

    @property
    def start(self) -> int:
        first = self.first_users or self.first_users_per_task * self.tasks
        return max(1, min(self.max_users, first))


class UserSearch:
    """Stateless policy: the next step's user count follows from the steps done so far."""

    def __init__(self, limits: SearchLimits) -> None:
        self.limits = limits

    def is_bad(self, step: StepOutcome) -> bool:
        """A step past the limit: the SLO broke (or nothing came back at all)."""
        if step.p95_ms is None:
            return True
        return not self.limits.slo.met(step.p95_ms, step.fail_ratio * 100)

    def is_saturated(self, step: StepOutcome) -> bool:
        """The tasks used (nearly) all the CPU they reserve."""
        cpu = step.cpu_utilization
        return cpu is not None and cpu >= self.limits.saturation_cpu

    def next_users(self, done: Sequence[StepOutcome]) -> int | None:
        if not done:
            return self.limits.start
        if len(done) >= self.limits.max_steps:
            return None
        bad = [s for s in done if self.is_bad(s)]
        return self._refine(done, bad) if bad else self._raise(done)

    def _raise(self, done: Sequence[StepOutcome]) -> int | None:
        lim = self.limits
        last = max(done, key=lambda s: s.users)
        if last.users >= lim.max_users:
            return None
        saturated = [s for s in done if self.is_saturated(s)]
        if saturated:
            predicted = self.predicted_slo_break(done)
            target = last.users * 1.25 if predicted is None else predicted * lim.past_knee_aim
            # Still within the SLO past the knee: the service got more efficient under load
            # (throughput kept rising at full CPU), so the prediction was low; grow faster.
            floor = lim.past_knee_growth if last is saturated[0] else lim.past_knee_retry
            target = min(last.users * lim.growth, max(last.users * floor, target))
        else:
            target = last.users * lim.growth
            predicted = self.predicted_saturation(done)
            if predicted is not None:
                floor = last.users * 1.2
                aim = next((share * predicted for share in lim.ramp if share * predicted > floor),
                           floor)  # fmt: skip
                target = min(target, aim)
        return min(lim.max_users, max(last.users + 1, math.ceil(target)))

    def _refine(self, done: Sequence[StepOutcome], bad: Sequence[StepOutcome]) -> int | None:
        lim = self.limits
        low, first_bad = self.bracket(done)
        assert first_bad is not None
        low = low or 0
        first_bad_index = next(i for i, s in enumerate(done) if self.is_bad(s))
        refined = len(done) - first_bad_index - 1
        if refined >= lim.refine_steps or first_bad - low <= max(1, lim.resolution * first_bad):
            return None
        middle = (low + first_bad) // 2 if low else max(1, first_bad // 2)
        return None if middle in {s.users for s in done} else middle

    def predicted_saturation(self, done: Sequence[StepOutcome]) -> float | None:
        """Users at which CPU would reach the saturation level, from the good steps' CPU per
        user (a least-squares line through the origin); None without CPU data."""
        points = [
            (s.users, s.cpu_utilization)
            for s in done
            if s.cpu_utilization is not None and s.cpu_utilization > 1.0 and not self.is_bad(s)
        ]
        if not points:
            return None
        slope = sum(u * c for u, c in points) / sum(u * u for u, _ in points)
        return self.limits.saturation_cpu / slope if slope > 0 else None

    def predicted_slo_break(self, done: Sequence[StepOutcome]) -> float | None:
        """Users at which queueing would push p95 to the SLO, by Little's law: the peak
        request rate times (think time per request + the SLO's mean response time); the think
        time comes from the good unsaturated steps (users / rate - median response time)."""
        peak = max((s.rps for s in done if s.rps), default=None)
        thinks = [
            s.users / s.rps - (s.p50_ms or 0.0) / 1000
            for s in done
            if s.rps and s.rps > 0 and not self.is_bad(s) and not self.is_saturated(s)
        ]
        if peak is None or not thinks:
            return None
        think = max(0.0, sorted(thinks)[len(thinks) // 2])
        mean_at_slo = self.limits.slo.p95_ms / 1000 * self.limits.slo_mean_share
        return peak * (think + mean_at_slo)

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
