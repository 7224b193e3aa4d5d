"""The CPU alarm threshold that leaves time to act, read off the measured curve of CPU against
users.

An alarm helps when the reaction it starts lands before the load reaches the limit U* (users
per task at the SLO, or the knee). The reaction takes T seconds: the alarm's period times the
datapoints it needs, then a new task starting and passing its health checks. Meanwhile the load
grows by g users a minute. So the alarm must fire at U* - g x T users, and the threshold is the
CPU the task used at that load. Neither the test's ramp nor its alarm period enters the rule,
so the figure carries over to a production alarm with 60 s periods.

g is given as a share of U* a minute (10: the load would go from idle to the limit in ten
minutes), so one figure fits any task size and fleet: with the load spread evenly, each task's
share grows at the same rate relative to its limit.

    curve = CpuCurve.from_steps(run.steps, tasks=1)
    row = curve_threshold(curve, limit_users=500, reaction_s=180, growth_pct=10)
    row.alarm_users, row.threshold     # 350 users, the CPU % measured there (floored)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rightsizer.stepsfile import Step

# T, the user's reaction time: CloudWatch's standard period (60 s) x 1 datapoint to alarm (the
# seed's alarm: 1 of 1), plus about two minutes for a new task to start and pass the load
# balancer's health checks (a Fargate task: ~60 s to pull and start; then two checks 30 s apart).
ALARM_PERIOD_S = 60
DATAPOINTS_TO_ALARM = 1
TASK_START_S = 120.0
REACTION_S = ALARM_PERIOD_S * DATAPOINTS_TO_ALARM + TASK_START_S
# g, the load's growth: 10% of the limit a minute, idle to U* in ten minutes (a morning ramp
# or a mailing's rush; a daily curve is ~1%/min). With T = 3 min it puts the alarm at 70% of
# U*, the load a task carries with the sizing's default 30% headroom.
GROWTH_PCT = 10.0
# The growth rates of the answer's table, % of U* a minute.
TABLE_GROWTH_PCTS = (2.0, 5.0, 10.0, 20.0, 30.0)


@dataclass(frozen=True)
class CurvePoint:
    """Users per task, the CPU % of the reservation measured there (steps at the same users
    averaged), and the curve's value: the measurements made non-decreasing."""

    users: float
    cpu: float
    fitted: float

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CurvePoint:
        """Inverse of `dataclasses.asdict` (answer.json)."""
        return cls(float(raw["users"]), float(raw["cpu"]), float(raw["fitted"]))


@dataclass(frozen=True)
class CpuCurve:
    """CPU against users per task, non-decreasing, linear between the points.

    Measured CPU can dip as load rises (noise, or the service getting more efficient per
    request), which would make two loads read one threshold; the points are pooled where they
    dip (pool adjacent violators), so each CPU level names one load. Below the lowest step the
    curve runs straight to (0, 0): at low load CPU is throughput x demand per request, and
    throughput grows in proportion to users (the utilization law)."""

    points: tuple[CurvePoint, ...]

    @classmethod
    def from_steps(cls, steps: Iterable[Step], tasks: int) -> CpuCurve | None:
        """The curve of `steps` of a fleet of `tasks` (users divided among them), from each
        step's steady-window CPU; None without a step that has one."""
        if tasks < 1:
            return None
        measured = sorted(
            (s.users / tasks, s.cpu_utilization)
            for s in steps
            if s.users > 0 and s.cpu_utilization is not None
        )
        if not measured:
            return None
        merged = [
            (users, sum(c for _, c in group) / len(group), len(group))
            for users, group in ((u, list(g)) for u, g in itertools.groupby(measured, _first))
        ]
        fitted = _non_decreasing([c for _, c, _ in merged], [n for _, _, n in merged])
        return cls(
            tuple(
                CurvePoint(users, cpu, fit)
                for (users, cpu, _), fit in zip(merged, fitted, strict=True)
            )
        )

    def cpu_at(self, users: float) -> float | None:
        """The curve's CPU at `users` per task; None past the highest measured step (or
        below zero users)."""
        if users < 0 or users > self.points[-1].users:
            return None
        known = [(0.0, 0.0), *((p.users, p.fitted) for p in self.points)]
        for (u0, c0), (u1, c1) in itertools.pairwise(known):
            if u0 <= users <= u1:
                return c0 if u1 == u0 else c0 + (users - u0) / (u1 - u0) * (c1 - c0)
        return None  # pragma: no cover - the range check above covers every case


@dataclass(frozen=True)
class ThresholdRow:
    """One growth rate's answer: g as % of U* a minute and in users per task a minute, the
    users at which the alarm must fire (U* - g x T), and the threshold: the curve's CPU there,
    floored to a whole percent (None: at this growth the load reaches U* within T of any
    load, so no CPU alarm leaves time; keep spare tasks instead)."""

    growth_pct: float
    growth_users: float
    alarm_users: int | None
    threshold: float | None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ThresholdRow:
        """Inverse of `dataclasses.asdict` (answer.json)."""
        users, threshold = raw.get("alarm_users"), raw.get("threshold")
        return cls(
            float(raw["growth_pct"]),
            float(raw["growth_users"]),
            None if users is None else int(users),
            None if threshold is None else float(threshold),
        )


def curve_threshold(
    curve: CpuCurve, limit_users: float, reaction_s: float, growth_pct: float
) -> ThresholdRow:
    """The threshold for a load growing `growth_pct` % of `limit_users` (U*, per task) a
    minute and a reaction that takes `reaction_s` seconds: CPU at U* - g x T."""
    growth = limit_users * growth_pct / 100
    at = limit_users - growth * reaction_s / 60
    cpu = curve.cpu_at(at) if at > 0 else None
    return ThresholdRow(
        growth_pct=growth_pct,
        growth_users=round(growth, 1),
        alarm_users=math.floor(at) if at > 0 else None,
        threshold=float(math.floor(cpu)) if cpu is not None and cpu >= 1 else None,
    )


def threshold_table(
    curve: CpuCurve,
    limit_users: float,
    reaction_s: float,
    growth_pcts: Sequence[float] = TABLE_GROWTH_PCTS,
) -> tuple[ThresholdRow, ...]:
    """`curve_threshold` at each growth rate, slowest first."""
    return tuple(
        curve_threshold(curve, limit_users, reaction_s, g) for g in sorted(set(growth_pcts))
    )


def _first(pair: tuple[float, float]) -> float:
    return pair[0]


def _non_decreasing(values: Sequence[float], weights: Sequence[int]) -> list[float]:
    """The closest non-decreasing sequence (least squares, weighted): pool adjacent violators."""
    blocks: list[tuple[float, int, int]] = []  # (mean, weight, how many values)
    for value, weight in zip(values, weights, strict=True):
        blocks.append((value, weight, 1))
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m1, w1, n1), (m2, w2, n2) = blocks[-2], blocks[-1]
            blocks[-2:] = [((m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2)]
    return [mean for mean, _, count in blocks for _ in range(count)]
