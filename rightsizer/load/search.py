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
until throughput stops following. The climb is gradual on purpose: the steps spread over the
CPU-users curve the alarm threshold is read from (rightsizer.analysis.threshold). A budget
under 8 steps (the quick demo) starts its ramp higher and strides further.
Without CPU figures (a `--host` target) the users grow by `growth` per step. A fleet that never
reaches its limit stops at `max_users` or after `max_steps`.

What is good or bad is not decided here: the SLO, the knee and the bracket are the analysis's
one rule (rightsizer.analysis.limit), so the search and the report cannot name different
limits. A step whose p95 was still moving when it ended (`settled`) is run once more at the
same users before the search moves on: the queue carries on, and the repeat is judged.

`--arrival-rate auto` runs this same search over rates: a step's `users` holds its rate in
whole iterations a second and its p95 is the one from the intended start
(`StepOutcome.from_rate_stats`), and its limits make it climb only (RunPlan.open_model).

    search = UserSearch(SearchLimits(tasks=1))
    users = search.next_users([])            # the first step
    users = search.next_users(done_steps)    # None when the answer is bracketed
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from rightsizer.analysis.limit import (
    Halves,
    Limit,
    LimitPoint,
    Verdict,
    judge_limit,
    settled,
)
from rightsizer.errors import UsageError
from rightsizer.load.step_stats import StepStats
from rightsizer.slo import SATURATED_CPU, Slo

# The step budgets `--max-steps` allows a search (SearchLimits.build).
MIN_SEARCH_STEPS = 2
MAX_SEARCH_STEPS = 100


@dataclass(frozen=True)
class StepOutcome:
    """What the search needs to know about one finished step. `fail_ratio` is a fraction;
    `requests`: requests sent in the steady window and answered so far (None: not known);
    `halves`: the p95 of each half of the steady window, for `settled`."""

    users: int
    p95_ms: float | None
    fail_ratio: float
    cpu_utilization: float | None
    rps: float | None = None
    requests: int | None = None
    halves: Halves | None = None

    @classmethod
    def from_stats(cls, stats: StepStats, slo: Slo) -> StepOutcome:
        """A step measured while the load runs. Requests still in flight are not in yet, and
        they are the slow ones: the step is judged by its answered requests' p95, as
        steps.json will judge it, unless those answered at its end show a queue twice the SLO
        deep (see StepStats.answered)."""
        p95 = stats.latency.p95
        queue = stats.answered.p95
        if queue is not None and queue > 2 * slo.p95_ms:
            p95 = max(p95 or 0.0, queue)
        window = stats.window
        seconds = window.end - window.steady_start
        requests = round(stats.rps * seconds) if stats.rps is not None else None
        early, late = stats.early, stats.answered
        return cls(
            users=window.users,
            p95_ms=p95,
            fail_ratio=_fail_ratio(stats),
            cpu_utilization=stats.cpu_utilization,
            rps=stats.rps,
            requests=requests,
            halves=Halves(early.p95, early.count, late.p95, late.count),
        )

    @classmethod
    def from_rate_stats(cls, stats: StepStats) -> StepOutcome:
        """An open-model step measured while the load runs (`--arrival-rate auto`), as
        LimitPoint.of_rate_step reads it from steps.json: `users` holds its rate in whole
        iterations a second and `p95_ms` is the p95 corrected for coordinated omission (from
        each request's intended start); no halves."""
        step = cls.from_stats(stats, Slo())
        arrival = stats.arrival
        rate = stats.window.rate
        return dataclasses.replace(
            step,
            users=max(1, round(rate)) if rate is not None else step.users,
            p95_ms=None if arrival is None else arrival.corrected.p95,
            halves=None,
        )

    def point(self, index: int) -> LimitPoint:
        """The step as the limit rule sees it; `index`: its place in the run."""
        return LimitPoint(
            index=index,
            users=self.users,
            p95_ms=self.p95_ms,
            failure_pct=self.fail_ratio * 100,
            rps=self.rps,
            requests=self.requests,
            cpu_utilization=self.cpu_utilization,
            halves=self.halves,
        )


def _fail_ratio(stats: StepStats) -> float:
    """The steady window's failure ratio, else the whole step's (as Step.failure_pct reads
    steps.json), else 0."""
    if stats.fail_ratio is not None:
        return stats.fail_ratio
    return stats.failures / stats.requests_total if stats.requests_total else 0.0


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
    short_ramp: tuple[float, ...] = (0.9, 1.2)
    saturation_cpu: float = SATURATED_CPU
    past_knee_growth: float = 1.3
    slo: Slo = field(default_factory=Slo)
    max_steps: int = 9
    refine_steps: int = 2
    max_users: int = 6000
    resolution: float = 0.06

    @classmethod
    def build(
        cls, tasks: int, slo: Slo, *, first_users: int | None = None, max_steps: int = 9
    ) -> SearchLimits:
        """The limits `--users auto` searches with; UsageError naming the flag for a value out
        of range (`--max-steps` 2 to 100; `--search-from` a step's users, 1 to MAX_USERS)."""
        from rightsizer.load.plan import MAX_USERS  # noqa: PLC0415  # plan imports this module

        if not MIN_SEARCH_STEPS <= max_steps <= MAX_SEARCH_STEPS:
            raise UsageError(
                f"--max-steps: {max_steps}; give {MIN_SEARCH_STEPS} to {MAX_SEARCH_STEPS}"
            )
        if first_users is not None and not 1 <= first_users <= MAX_USERS:
            raise UsageError(f"--search-from: {first_users}; give 1 to {MAX_USERS} users")
        return cls(tasks=tasks, slo=slo, first_users=first_users, max_steps=max_steps)

    @property
    def short(self) -> bool:
        """A budget of fewer than 8 steps (the quick demo) takes bigger strides."""
        return self.max_steps < 8

    @property
    def min_growth(self) -> float:
        """The least a raise grows the users."""
        return 1.4 if self.short else 1.2

    @property
    def shares(self) -> tuple[float, ...]:
        """The ramp's shares of the predicted saturation. A short budget skips the lowest
        (the first prediction falls short, as CPU per user falls with load, so 0.9 of it
        lands near two thirds of the truth), to be past the knee by its fourth step and
        have steps left to narrow the bracket."""
        return self.short_ramp if self.short else self.ramp

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

    def limit(self, done: Sequence[StepOutcome]) -> Limit:
        """The one rule (rightsizer.analysis.limit) over the steps done."""
        return judge_limit((s.point(i) for i, s in enumerate(done)), self.limits.slo)

    def verdict(self, step: StepOutcome, done: Sequence[StepOutcome] = ()) -> Verdict:
        """What the rule says of `step`, judged with the other steps `done` (it may be one)."""
        steps = list(done)
        position = next((i for i, s in enumerate(steps) if s is step), None)
        if position is None:
            steps.append(step)
            position = len(steps) - 1
        return self.limit(steps).verdict(step.point(position))

    def is_bad(self, step: StepOutcome, done: Sequence[StepOutcome] = ()) -> bool:
        """A step at or past the limit: the SLO broke, nothing was served, or (judged with the
        steps `done`) it is past the knee."""
        return self.verdict(step, done).bad

    def bad_steps(self, done: Sequence[StepOutcome]) -> list[StepOutcome]:
        bad = {p.index for p in self.limit(done).bad}
        return [s for i, s in enumerate(done) if i in bad]

    def repeats(self, done: Sequence[StepOutcome]) -> bool:
        """The last step's p95 still moved when it ended (analysis.limit.settled) and it is
        not a repeat itself: it is run once more at the same users rather than judged."""
        if not done:
            return False
        last = done[-1]
        again = len(done) > 1 and done[-2].users == last.users
        return not again and not settled(last.point(len(done) - 1), self.limits.slo)

    def describe(self, done: Sequence[StepOutcome], unit: str = "users") -> str:
        """The last step in words, for the progress line; `unit` names what `users` counts
        ("iterations/s" in a search over rates)."""
        last = done[-1]
        if self.repeats(done):
            return f"{last.users} {unit} were still settling (p95 moving): repeating them"
        verdict = self.verdict(last, done)
        if verdict is Verdict.UNKNOWN:
            return f"{last.users} {unit} measured nothing to judge"
        where = "past the limit" if verdict.bad else "within the limit"
        return f"{last.users} {unit} were {where} ({verdict.value})"

    def next_users(self, done: Sequence[StepOutcome]) -> int | None:
        if not done:
            return self.limits.start
        if len(done) >= self.limits.max_steps:
            return None
        if self.repeats(done):
            return done[-1].users
        limit = self.limit(done)
        return self._refine(done, limit) if limit.reached else self._raise(done, limit)

    def _raise(self, done: Sequence[StepOutcome], limit: Limit) -> int | None:
        lim = self.limits
        last = max(s.users for s in done)
        if last >= lim.max_users:
            return None
        target = last * lim.growth
        if any(self.is_saturated(s) for s in done):
            # CPU is full but throughput still grows: go on in big steps to find the knee.
            target = last * lim.stride
        else:
            predicted = self.predicted_saturation(done, limit)
            if predicted is not None:
                # Past the ramp's last share the prediction has fallen short (CPU per user
                # falls as load rises): grow as past the knee.
                floor = last * lim.min_growth
                aim = next((share * predicted for share in lim.shares if share * predicted > floor),
                           last * lim.stride)  # fmt: skip
                target = min(target, aim)
        return min(lim.max_users, max(last + 1, round(target)))

    def _refine(self, done: Sequence[StepOutcome], limit: Limit) -> int | None:
        lim = self.limits
        assert limit.high is not None
        low, first_bad = limit.low or 0, limit.high
        refined = len(done) - min(p.index for p in limit.bad) - 1
        if refined >= lim.refine_steps or first_bad - low <= max(1, lim.resolution * first_bad):
            return None
        middle = (low + first_bad) // 2 if low else max(1, first_bad // 2)
        return None if middle in {s.users for s in done} else middle

    def predicted_saturation(
        self, done: Sequence[StepOutcome], limit: Limit | None = None
    ) -> float | None:
        """Users at which CPU would reach the saturation level, from the good steps' CPU per
        user (a least-squares line through the origin); None without CPU data."""
        limit = limit or self.limit(done)
        points = [
            (p.users, p.cpu_utilization)
            for p in limit.judged
            if p.cpu_utilization is not None
            and p.cpu_utilization > 1.0
            and limit.verdict(p) is Verdict.MET
            and p.cpu_utilization < self.limits.saturation_cpu
        ]
        if not points:
            return None
        slope = sum(u * c for u, c in points) / sum(u * u for u, _ in points)
        return self.limits.saturation_cpu / slope if slope > 0 else None

    def bracket(self, done: Sequence[StepOutcome]) -> tuple[int | None, int | None]:
        """(users of the last good step below the first bad, users of the first bad step)."""
        limit = self.limit(done)
        return limit.low, limit.high
