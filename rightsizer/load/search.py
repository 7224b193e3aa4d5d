"""Where does this fleet reach its limit? Choose each load step from the steps measured so far.

The search raises users until the SLO breaks or the fleet is past its knee (its CPU saturated
and its throughput no longer growing with users: past that, more users only queue), then
bisects between the last good and the first bad step. CPU alone is not the limit: a service
often gets more efficient under load (more requests per wake-up), so its throughput keeps
growing for a while at a CPU that reads "full".

It does not raise blindly: below saturation CPU grows about linearly with users, so the good
steps predict where CPU saturates, and the steps climb towards it at `ramp` shares of that
prediction (at most `growth` times the last step, so a noisy first reading cannot send it far
past the limit). Once CPU reads full, or the ramp is spent while CPU still does not (CPU per
user falls as load rises, so the prediction falls short), users grow by `past_knee_growth`
until throughput stops following. The climb is gradual on purpose: CPU then crosses each
alarm threshold in its own step, and replaying an alarm over the run tells how early each
threshold would have fired. A budget under 8 steps (the quick demo) strides further.
Without CPU figures (a `--host` target) the users grow by `growth` per step. A fleet that never
reaches its limit stops at `max_users` or after `max_steps`.

    search = UserSearch(SearchLimits(tasks=1))
    users = search.next_users([])            # the first step
    users = search.next_users(done_steps)    # None when the answer is bracketed
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rightsizer.analysis.knee import LINEAR_SHARE, PLATEAU_USERS
from rightsizer.slo import SATURATED_CPU, Slo


@dataclass(frozen=True)
class StepOutcome:
    """What the search needs to know about one finished step."""

    users: int
    p95_ms: float | None
    fail_ratio: float
    cpu_utilization: float | None
    rps: float | None = None


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
    saturation_cpu: float = SATURATED_CPU
    past_knee_growth: float = 1.3
    slo: Slo = field(default_factory=Slo)
    max_steps: int = 9
    refine_steps: int = 2
    max_users: int = 6000
    resolution: float = 0.06

    @property
    def short(self) -> bool:
        """A budget of fewer than 8 steps (the quick demo) takes bigger strides."""
        return self.max_steps < 8

    @property
    def min_growth(self) -> float:
        """The least a raise grows the users."""
        return 1.4 if self.short else 1.2

    @property
    def stride(self) -> float:
        """How users grow once CPU reads full or the ramp is spent."""
        return max(self.past_knee_growth, 1.5) if self.short else self.past_knee_growth

    @property
    def start(self) -> int:
        first = self.first_users or self.first_users_per_task * self.tasks
        return max(1, min(self.max_users, first))


class UserSearch:
    """Stateless policy: the next step's user count follows from the steps done so far."""

    def __init__(self, limits: SearchLimits) -> None:
        self.limits = limits

    def is_saturated(self, step: StepOutcome) -> bool:
        """The tasks used (nearly) all the CPU they reserve."""
        cpu = step.cpu_utilization
        return cpu is not None and cpu >= self.limits.saturation_cpu

    def breaks_slo(self, step: StepOutcome) -> bool:
        """The SLO broke, or nothing came back at all."""
        return step.p95_ms is None or not self.limits.slo.met(step.p95_ms, step.fail_ratio * 100)

    def per_user_rate(self, done: Sequence[StepOutcome]) -> float | None:
        """Requests per second per user while nothing queues: from the unsaturated steps that
        met the SLO (least squares through the origin); None without them."""
        points = [
            (s.users, s.rps)
            for s in done
            if s.rps and not self.is_saturated(s) and not self.breaks_slo(s)
        ]
        if not points:
            return None
        return sum(u * x for u, x in points) / sum(u * u for u, _ in points)

    def is_bad(self, step: StepOutcome, done: Sequence[StepOutcome] = ()) -> bool:
        """A step at or past the limit: the SLO broke, or (judged against the other steps
        `done`) its CPU saturated while its throughput fell clearly below linear growth or
        stopped growing (the report's knee tests: LINEAR_SHARE, PLATEAU_USERS)."""
        if self.breaks_slo(step):
            return True
        if not self.is_saturated(step) or not step.rps:
            return False
        rate = self.per_user_rate(done)
        if rate is not None and step.rps < LINEAR_SHARE * rate * step.users:
            return True
        return any(
            s.rps and step.users >= PLATEAU_USERS * s.users and step.rps <= s.rps
            for s in done
            if not self.breaks_slo(s)
        )

    def bad_steps(self, done: Sequence[StepOutcome]) -> list[StepOutcome]:
        return [s for s in done if self.is_bad(s, done)]

    def next_users(self, done: Sequence[StepOutcome]) -> int | None:
        if not done:
            return self.limits.start
        if len(done) >= self.limits.max_steps:
            return None
        bad = self.bad_steps(done)
        return self._refine(done, bad) if bad else self._raise(done)

    def _raise(self, done: Sequence[StepOutcome]) -> int | None:
        lim = self.limits
        last = max(s.users for s in done)
        if last >= lim.max_users:
            return None
        target = last * lim.growth
        if any(self.is_saturated(s) for s in done):
            # CPU is full but throughput still grows: go on in big steps to find the knee.
            target = last * lim.stride
        else:
            predicted = self.predicted_saturation(done)
            if predicted is not None:
                # Past the ramp's last share the prediction has fallen short (CPU per user
                # falls as load rises): grow as past the knee.
                floor = last * lim.min_growth
                aim = next((share * predicted for share in lim.ramp if share * predicted > floor),
                           last * lim.stride)  # fmt: skip
                target = min(target, aim)
        return min(lim.max_users, max(last + 1, round(target)))

    def _refine(self, done: Sequence[StepOutcome], bad: Sequence[StepOutcome]) -> int | None:
        lim = self.limits
        low, first_bad = _bracket(done, bad)
        assert first_bad is not None
        low = low or 0
        first_bad_index = next(i for i, s in enumerate(done) if s in bad)
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
            if s.cpu_utilization is not None
            and s.cpu_utilization > 1.0
            and not self.breaks_slo(s)
            and not self.is_saturated(s)
        ]
        if not points:
            return None
        slope = sum(u * c for u, c in points) / sum(u * u for u, _ in points)
        return self.limits.saturation_cpu / slope if slope > 0 else None

    def bracket(self, done: Sequence[StepOutcome]) -> tuple[int | None, int | None]:
        """(most users of a good step below the first bad, fewest users of a bad step)."""
        return _bracket(done, self.bad_steps(done))


def _bracket(
    done: Sequence[StepOutcome], bad: Sequence[StepOutcome]
) -> tuple[int | None, int | None]:
    first_bad = min((s.users for s in bad), default=None)
    good = [s.users for s in done if s not in bad and (first_bad is None or s.users < first_bad)]
    return (max(good) if good else None, first_bad)
