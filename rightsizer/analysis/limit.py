"""The limit of a fleet, the one rule: which steps are past it, the last good and the first bad
step, whether the knee was reached, and which steps were still settling. The live search
(rightsizer.load.search) and the analysis (the answer, the report) both judge here, from the
same `LimitPoint`s: a search step (`StepOutcome.point()`) or a steps.json step
(`LimitPoint.of_step`).

A step is bad when
- it broke the SLO (p95 or failures at or over the limit, rightsizer.slo.Slo);
- or it served nothing: users, but not one request sent in its steady window and answered
  (`requests == 0`; with every request recorded, a stalled fleet). A step that says nothing at
  all (no p95 and no request count: a partial steps.json) is not judged. The missing-p95 rule,
  once: "nothing served" is bad, "nothing known" is not judged;
- or it is past the knee: `find_knee` over the judged steps reached it, and the step ran more
  users than N* (Knee.passed).

A step whose p95 was still moving when it ended (`settled` False) is not judged when the next
step ran the same users: the search repeats such a step once, and the queue carries on from
where it stood, so the repeat is the same load measured longer. Without a repeat it is judged on
its figures (and the report marks it).

    limit = judge_limit([LimitPoint.of_step(s) for s in steps], slo)
    limit.low, limit.high, limit.knee_reached      # 540, 585, True
    estimate_users(limit).users                    # 561.3: N*, or the SLO where it broke first
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from rightsizer.analysis.knee import Knee, find_knee
from rightsizer.analysis.step_points import LoadPoint, steady_requests
from rightsizer.slo import Slo
from rightsizer.stepsfile import Step

# Settling (`settled`). The p95 of a half rests on at least this many answers (its 95th
# percentile is then the 19th value or later, not the maximum).
SETTLE_MIN_ANSWERS = 20
# The two halves' p95 differ by more than this factor: the queue is still moving.
SETTLE_RATIO = 1.5
# ... and the moving half is at least this share of the SLO's p95: a trend far below the SLO
# cannot turn the verdict within a step.
SETTLE_FLOOR = 0.25


class Verdict(enum.Enum):
    """What one step says about the limit."""

    MET = "met"
    MISSED = "missed the SLO"
    SILENT = "served nothing"
    PAST_KNEE = "past the knee"
    UNKNOWN = "not judged"

    @property
    def bad(self) -> bool:
        return self in (Verdict.MISSED, Verdict.SILENT, Verdict.PAST_KNEE)


@dataclass(frozen=True)
class Halves:
    """p95 (ms) of the requests sent in a step and answered in the first and in the second
    half of its steady window, with how many answered in each: whether the queue still moved
    when the step ended."""

    early_p95_ms: float | None
    early_count: int
    late_p95_ms: float | None
    late_count: int


@dataclass(frozen=True)
class LimitPoint:
    """One step as the limit rule sees it. `index`: its place in run order; `failure_pct`:
    failed requests in percent; `requests`: requests sent in its steady window and answered
    (None: not known); `halves`: for `settled` (None: not recorded)."""

    index: int
    users: int
    p95_ms: float | None
    failure_pct: float | None
    rps: float | None
    requests: int | None
    cpu_utilization: float | None = None
    halves: Halves | None = None

    @classmethod
    def of_step(cls, step: Step) -> LimitPoint:
        """A steps.json step."""
        requests = steady_requests(step)
        halves = None
        if step.answered_early is not None and step.answered_late is not None:
            halves = Halves(
                step.p95_early_ms, step.answered_early, step.p95_late_ms, step.answered_late
            )
        return cls(
            index=step.index,
            users=step.users,
            p95_ms=step.p95_ms,
            failure_pct=step.failure_pct,
            rps=step.rps,
            requests=requests,
            cpu_utilization=step.cpu_utilization,
            halves=halves,
        )

    @classmethod
    def of_rate_step(cls, step: Step) -> LimitPoint | None:
        """An open-model steps.json step (`--arrival-rate`) as the rule sees it, None for a
        closed-model one: its load is its intended rate in whole iterations a second (`users`
        holds it; at least 1) and its p95 is the one corrected for coordinated omission
        (from each request's intended start). Not `halves`: they are raw latency, so the
        step is judged on its figures, never left for a repeat."""
        arrival = step.arrival
        if arrival is None or arrival.intended_rate is None:
            return None
        return dataclasses.replace(
            cls.of_step(step),
            users=max(1, round(arrival.intended_rate)),
            p95_ms=arrival.corrected_p95_ms,
            halves=None,
        )


def slo_verdict(point: LimitPoint, slo: Slo) -> Verdict:
    """The step against the SLO alone: MET, MISSED, SILENT (nothing served) or UNKNOWN."""
    if point.p95_ms is None:
        return Verdict.SILENT if point.requests == 0 and point.users > 0 else Verdict.UNKNOWN
    return Verdict.MET if slo.met(point.p95_ms, point.failure_pct) else Verdict.MISSED


def settled(point: LimitPoint, slo: Slo) -> bool:
    """Whether the step's verdict can stand: False when its p95 still moved when it ended in
    the direction that could turn the verdict. Rising (the second half's p95 over SETTLE_RATIO
    times the first's, and at least SETTLE_FLOOR of the SLO) on a step that met the SLO: the
    queue was still growing, and past the knee a closed system's response time grows until
    R = N / Xmax - Z (the interactive response time law), which a short step ends before.
    Falling to within the SLO on a step whose p95 missed it: the burst of the step's start was
    still draining. Comparing the halves is a crude form of the tests for an initial transient
    in simulation output (Law & Kelton, Simulation Modeling and Analysis, 5th ed., 9.5.1);
    True when either half has fewer than SETTLE_MIN_ANSWERS answers."""
    halves = point.halves
    if halves is None or min(halves.early_count, halves.late_count) < SETTLE_MIN_ANSWERS:
        return True
    early, late = halves.early_p95_ms, halves.late_p95_ms
    if early is None or late is None:
        return True
    verdict = slo_verdict(point, slo)
    rising = late > SETTLE_RATIO * early and late >= SETTLE_FLOOR * slo.p95_ms
    if rising:
        return verdict is not Verdict.MET
    falling = early > SETTLE_RATIO * late and late < slo.p95_ms
    failures_ok = slo.met(None, point.failure_pct)
    return not (falling and verdict is Verdict.MISSED and failures_ok)


def repeated(points: Sequence[LimitPoint], slo: Slo) -> list[LimitPoint]:
    """The steps left unjudged: not settled, and the next step in run order ran the same
    users (their repeat)."""
    ordered = sorted(points, key=lambda p: p.index)
    return [
        p
        for p, after in itertools.pairwise(ordered)
        if after.users == p.users and not settled(p, slo)
    ]


@dataclass(frozen=True)
class Limit:
    """The rule applied to a set of steps. `judged`: the steps it judged, in run order, with
    `verdicts` one each; `repeated`: steps left for their repeat; `knee`: find_knee over the
    judged steps; `last_good`: the most users of a step that met the SLO below `first_bad`,
    the fewest users of a bad step (None: no step was bad, the limit was not reached)."""

    slo: Slo
    judged: tuple[LimitPoint, ...]
    verdicts: tuple[Verdict, ...]
    repeated: tuple[LimitPoint, ...]
    knee: Knee | None
    last_good: LimitPoint | None
    first_bad: LimitPoint | None

    @property
    def knee_reached(self) -> bool:
        return self.knee is not None and self.knee.reached

    @property
    def low(self) -> int | None:
        """Users of the last good step."""
        return self.last_good.users if self.last_good else None

    @property
    def high(self) -> int | None:
        """Users of the first bad step."""
        return self.first_bad.users if self.first_bad else None

    @property
    def reached(self) -> bool:
        """A step was past the limit: `low`..`high` brackets it."""
        return self.first_bad is not None

    def verdict(self, point: LimitPoint) -> Verdict:
        """The verdict on the step with `point`'s index (UNKNOWN: not judged)."""
        for judged, verdict in zip(self.judged, self.verdicts, strict=True):
            if judged.index == point.index:
                return verdict
        return Verdict.UNKNOWN

    @property
    def bad(self) -> tuple[LimitPoint, ...]:
        return tuple(p for p, v in zip(self.judged, self.verdicts, strict=True) if v.bad)


def judge_limit(points: Iterable[LimitPoint], slo: Slo) -> Limit:
    """Judge every step (see the module docstring) and bracket the limit."""
    every = sorted(points, key=lambda p: p.index)
    left = repeated(every, slo)
    skipped = {p.index for p in left}
    judged = [
        p for p in every if p.index not in skipped and slo_verdict(p, slo) is not Verdict.UNKNOWN
    ]
    knee = find_knee([LoadPoint(p.users, p.rps, p.requests) for p in judged if p.rps is not None])
    verdicts = []
    for p in judged:
        verdict = slo_verdict(p, slo)
        if verdict is Verdict.MET and knee is not None and knee.passed(p.users):
            verdict = Verdict.PAST_KNEE
        verdicts.append(verdict)
    bad = [p for p, v in zip(judged, verdicts, strict=True) if v.bad]
    first_bad = min(bad, key=lambda p: (p.users, p.index), default=None)
    good = [
        p
        for p, v in zip(judged, verdicts, strict=True)
        if v is Verdict.MET and (first_bad is None or p.users < first_bad.users)
    ]
    last_good = max(good, key=lambda p: (p.users, p.index), default=None)
    return Limit(slo, tuple(judged), tuple(verdicts), tuple(left), knee, last_good, first_bad)


def limit_of_steps(steps: Iterable[Step], slo: Slo) -> Limit:
    """`judge_limit` of steps.json steps."""
    return judge_limit((LimitPoint.of_step(s) for s in steps), slo)


def limit_of_rates(steps: Iterable[Step], slo: Slo) -> Limit:
    """`judge_limit` of an open-model run's steps on their rates (`LimitPoint.of_rate_step`;
    closed-model steps are left out): `low` and `high` are iterations a second."""
    points = (LimitPoint.of_rate_step(s) for s in steps)
    return judge_limit((p for p in points if p is not None), slo)


class Figures(Protocol):
    """What `crossing` reads of a step (a Step or a LimitPoint)."""

    @property
    def users(self) -> int: ...
    @property
    def p95_ms(self) -> float | None: ...
    @property
    def failure_pct(self) -> float | None: ...


def crossing(slo: Slo, good: Figures | None, bad: Figures) -> float | None:
    """Where the breaking figure (p95 or failures) crosses its limit between `good` and `bad`,
    linearly; None when no figure can be interpolated (no good step, or the figures do not
    bracket the limit)."""
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


@dataclass(frozen=True)
class Estimate:
    """Users (of the whole fleet) at the limit within the interval `Limit.low`..`Limit.high`:
    `at_knee` at the knee N*, `interpolated` where the SLO broke; otherwise the last good
    step's users (None: no good step)."""

    users: float | None
    interpolated: bool = False
    at_knee: bool = False


def estimate_users(limit: Limit) -> Estimate:
    """The limit within the bracket: whichever comes first of the knee N* (when it was reached)
    and where the SLO breaks (interpolated between the last good and the first bad step on the
    breaking figure, `crossing`); the last good step's users when neither can be told or no
    step was bad (then a lower bound).

    The knee counts even where the SLO held past it. Past N* throughput stays at Xmax and
    every added user only waits: a closed test's response time grows as R = N / Xmax - Z
    (the interactive response time law) and stays bounded only because its users wait for
    answers; production's arrivals do not, and a rate past Xmax grows the queue without bound.
    Where the SLO held past N* varies from run to run with the last steps' placing; N* does
    not."""
    low, first_bad = limit.low, limit.first_bad
    measured = Estimate(float(low) if low is not None else None)
    if first_bad is None:
        return measured
    at_slo = None
    if limit.verdict(first_bad) is Verdict.MISSED:
        at_slo = crossing(limit.slo, limit.last_good, first_bad)
    knee = limit.knee
    knee_first = at_slo is None or (knee is not None and knee.users <= at_slo)
    if knee is not None and knee.reached and knee.users < first_bad.users and knee_first:
        return Estimate(max(knee.users, low or 0), at_knee=True)
    if at_slo is not None:
        return Estimate(at_slo, interpolated=True)
    return measured


def interval_text(low: int | None, high: int | None) -> str:
    """A limit as every page prints it: "540-585" (last good to first bad step), "≥ 585" (a
    lower bound: nothing was past it), "< 60" (the first step already was)."""
    if high is not None:
        return f"< {high}" if low is None else f"{low}-{high}"
    return "not measured" if low is None else f"≥ {low}"
