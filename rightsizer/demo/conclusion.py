"""From the demo's runs to the answer: replay the CPU alarm, build the answer, write the pages.

conclusion = conclude(plan, first_run, second_run)
conclusion.answer.lines()
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rightsizer.alarms.replay import ReplayGrid, ReplayRow, base_alarm, recommend, replay
from rightsizer.analysis.answer import Answer, build_answer
from rightsizer.analysis.run import load_run
from rightsizer.demo.plan import THRESHOLDS, DemoPlan
from rightsizer.metrics import names
from rightsizer.report.html import write_comparison, write_report
from rightsizer.rundir import COMPARE, RunDir
from rightsizer.slo import SATURATED_CPU


@dataclass(frozen=True)
class Conclusion:
    """The answer and where it was written."""

    answer: Answer
    replay_rows: tuple[ReplayRow, ...]
    recommended: ReplayRow | None
    reports: tuple[Path, ...]
    comparison: Path | None


def replay_thresholds(plan: DemoPlan, run: Path) -> list[ReplayRow]:
    """The seed's alarm at every threshold of THRESHOLDS, replayed over the first run."""
    grid = ReplayGrid(
        base_alarm(names.CPU_UTILIZATION),
        thresholds=THRESHOLDS,
        periods=(plan.alarm_period,),
    )
    return replay(RunDir.open(run), grid, plan.slo)


@dataclass(frozen=True)
class ThresholdChoice:
    """The threshold to recommend (`row`, None: none fired before `event`), what it fired
    before, and a note when that is not the plain replay answer."""

    row: ReplayRow | None
    event: str = "the SLO broke"
    note: str | None = None


def stand_in_event(run: Path, limit_users: float | None) -> tuple[str, float] | None:
    """What to judge the alarm against when the SLO never broke, and when (seconds after load
    start): the first step past `limit_users` (what the fleet carries within the SLO, the knee
    when the SLO held past it), else the first whose CPU saturated; None without either."""
    directory = RunDir.open(run)
    load_start = directory.manifest().get("load_start")
    if not isinstance(load_start, float):
        return None
    steps = [s for s in directory.steps() if isinstance(s.get("start"), float)]
    if limit_users is not None:
        past = [s["start"] for s in steps if (s.get("users") or 0) > limit_users]
        if past:
            return f"the load passed {limit_users:.0f} users", min(past) - load_start
    saturated = [s["start"] for s in steps if (s.get("cpu_utilization") or 0.0) >= SATURATED_CPU]
    if saturated:
        return "the task's CPU saturated", min(saturated) - load_start
    return None


def judged_against(rows: Sequence[ReplayRow], event_s: float) -> list[ReplayRow]:
    """The rows again, with `event_s` standing in for the SLO break."""
    return [
        dataclasses.replace(
            row,
            slo_break_s=event_s,
            lead_time_s=None if row.first_alarm_s is None else event_s - row.first_alarm_s,
        )
        for row in rows
    ]


def choose_threshold(
    rows: Sequence[ReplayRow], run: Path, limit_users: float | None
) -> ThresholdChoice:
    """The replay's answer: the highest threshold that fired at least one period before the
    SLO broke. A run whose SLO never broke is judged against `stand_in_event`. Steps shorter
    than two alarm periods (the quick demo) may leave no threshold a whole period early: then
    the highest that fired before at all, said as such."""
    best = recommend(rows)
    if best is not None:
        return ThresholdChoice(best)
    event = "the SLO broke"
    if all(row.slo_break_s is None for row in rows):
        stand_in = stand_in_event(run, limit_users)
        if stand_in is None:
            return ThresholdChoice(None)
        event, when = stand_in
        rows = judged_against(rows, when)
        best = recommend(rows)
        if best is not None:
            note = f"the SLO never broke: the alarm threshold is the one a period before {event}"
            return ThresholdChoice(best, event, note)
    early = [r for r in rows if r.lead_time_s is not None and r.lead_time_s > 0]
    if not early:
        return ThresholdChoice(None, event)
    best = max(early, key=lambda r: (-r.false_alarms, r.alarm.threshold))
    lead = best.lead_time_s or 0.0
    return ThresholdChoice(
        best,
        event,
        f"no threshold fired a whole alarm period before {event}; {best.alarm.threshold:g}% "
        f"fired {lead:.0f} s before it (steps shorter than two periods: a coarse figure)",
    )


def conclude(plan: DemoPlan, first: Path, second: Path | None, out: Path) -> Conclusion:
    """Answer the seed's questions from the runs; write both reports and the comparison."""
    one = load_run(first)
    answer = build_answer(
        one,
        load_run(second) if second is not None else None,
        target_users=plan.target_users,
        headroom=plan.headroom,
        seed_threshold=plan.seed_threshold,
    )
    rows = replay_thresholds(plan, first)
    limit = (
        answer.users_per_task * one.tasks
        if answer.users_per_task is not None and one.tasks
        else None
    )
    choice = choose_threshold(rows, first, limit)
    best = choice.row
    answer = dataclasses.replace(
        answer,
        recommended_threshold=best.alarm.threshold if best else None,
        threshold_lead_s=best.lead_time_s if best else None,
        threshold_event=choice.event,
        notes=answer.notes if choice.note is None else (*answer.notes, choice.note),
    )
    reports = [write_report(first, answer).report]
    comparison = None
    if second is not None:
        reports.append(write_report(second, answer).report)
        comparison, _ = write_comparison(first, second, out / COMPARE)
    return Conclusion(answer, tuple(rows), best, tuple(reports), comparison)
