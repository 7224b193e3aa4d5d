"""From the demo's runs to the answer: replay the CPU alarm, build the answer, write the pages.

conclusion = conclude(plan, first_run, second_run)
conclusion.answer.lines()
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rightsizer.alarms.replay import (
    ReplayGrid,
    ReplayRow,
    RunFacts,
    base_alarm,
    read_run,
    recommend,
    replay_facts,
)
from rightsizer.analysis.answer import Answer, build_answer
from rightsizer.analysis.run import load_run
from rightsizer.demo.plan import THRESHOLDS, DemoPlan
from rightsizer.metrics import names
from rightsizer.report.html import write_comparison, write_report
from rightsizer.rundir import COMPARE, RunDir
from rightsizer.slo import SATURATED_CPU, Slo
from rightsizer.stepsfile import Step


@dataclass(frozen=True)
class Conclusion:
    """The answer and where it was written."""

    answer: Answer
    replay_rows: tuple[ReplayRow, ...]
    recommended: ReplayRow | None
    reports: tuple[Path, ...]
    comparison: Path | None


def threshold_grid(plan: DemoPlan) -> ReplayGrid:
    """The seed's alarm at every threshold of THRESHOLDS, at the demo's period."""
    return ReplayGrid(
        base_alarm(names.CPU_UTILIZATION), thresholds=THRESHOLDS, periods=(plan.alarm_period,)
    )


@dataclass(frozen=True)
class ThresholdChoice:
    """The replay's rows, the threshold to recommend (`row`, None: none fired before
    `event`), what it fired before, and a note when that is not the plain replay answer."""

    rows: tuple[ReplayRow, ...]
    row: ReplayRow | None
    event: str = "the SLO broke"
    note: str | None = None


def stand_in_event(steps: Sequence[Step], limit_users: float | None) -> tuple[str, float] | None:
    """What to judge the alarm against when the SLO never broke, and when (epoch seconds):
    the first step past `limit_users` (what the fleet carries within the SLO, the knee when
    the SLO held past it), else the first whose CPU saturated; None without either."""
    if limit_users is not None:
        past = [s.start for s in steps if s.start is not None and s.users > limit_users]
        if past:
            return f"the load passed {limit_users:.0f} users", min(past)
    saturated = [
        s.start
        for s in steps
        if s.start is not None and (s.cpu_utilization or 0.0) >= SATURATED_CPU
    ]
    if saturated:
        return "the task's CPU saturated", min(saturated)
    return None


def choose_threshold(
    facts: RunFacts, grid: ReplayGrid, slo: Slo, limit_users: float | None
) -> ThresholdChoice:
    """The replay's answer: the highest threshold that fired at least one period before the
    SLO broke. A run whose SLO never broke is replayed again against `stand_in_event`. Steps
    shorter than two alarm periods (the quick demo) may leave no threshold a whole period
    early: then the highest that fired before at all, said as such."""
    rows = replay_facts(facts, grid.alarms(), slo)
    best = recommend(rows)
    if best is not None:
        return ThresholdChoice(tuple(rows), best)
    event = "the SLO broke"
    if all(row.slo_break_s is None for row in rows):
        stand_in = stand_in_event(facts.steps, limit_users)
        if stand_in is None:
            return ThresholdChoice(tuple(rows), None)
        event, when = stand_in
        rows = replay_facts(facts, grid.alarms(), slo, break_at=when)
        best = recommend(rows)
        if best is not None:
            note = f"the SLO never broke: the alarm threshold is the one a period before {event}"
            return ThresholdChoice(tuple(rows), best, event, note)
    early = [r for r in rows if r.lead_time_s is not None and r.lead_time_s > 0]
    if not early:
        return ThresholdChoice(tuple(rows), None, event)
    best = max(early, key=lambda r: (-r.false_alarms, r.alarm.threshold))
    lead = best.lead_time_s or 0.0
    return ThresholdChoice(
        tuple(rows),
        best,
        event,
        f"no threshold fired a whole alarm period before {event}; {best.alarm.threshold:g}% "
        f"fired {lead:.0f} s before it (steps shorter than two periods: a coarse figure)",
    )


def conclude(plan: DemoPlan, first: Path, second: Path | None, out: Path) -> Conclusion:
    """Answer the seed's questions from the runs; write both reports and the comparison."""
    one = load_run(first)
    more = load_run(second) if second is not None else None
    answer = build_answer(
        one,
        more,
        target_users=plan.target_users,
        headroom=plan.headroom,
    )
    grid = threshold_grid(plan)
    limit = (
        answer.users_per_task * one.tasks
        if answer.users_per_task is not None and one.tasks
        else None
    )
    choice = choose_threshold(read_run(RunDir.open(first), grid.base), grid, plan.slo, limit)
    best = choice.row
    answer = dataclasses.replace(
        answer,
        recommended_threshold=best.alarm.threshold if best else None,
        threshold_lead_s=best.lead_time_s if best else None,
        threshold_event=choice.event,
        notes=answer.notes if choice.note is None else (*answer.notes, choice.note),
    )
    reports = [write_report(first, answer, run=one).report]
    comparison = None
    if second is not None and more is not None:
        reports.append(write_report(second, answer, run=more).report)
        comparison, _ = write_comparison(first, second, out / COMPARE, runs=(one, more))
    return Conclusion(answer, choice.rows, best, tuple(reports), comparison)
