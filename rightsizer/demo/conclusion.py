"""From the demo's runs to the answer: the CPU alarm threshold, the answer, the pages.

The threshold is the CPU at U* - g x T on the 1-task run's CPU-users curve
(rightsizer.analysis.threshold), checked by replaying it over the recorded run at the
production period (60 s). When the run measured no curve or no limit, it falls back to the
replay at the demo's own period: the highest threshold that fired a period before the SLO broke.

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
    ReplayInput,
    ReplayRow,
    base_alarm,
    read_run,
    recommend,
    replay_facts,
)
from rightsizer.analysis.answer import CURVE, REPLAY, Answer, build_answer
from rightsizer.analysis.recorded_run import RecordedRun, load_run
from rightsizer.analysis.threshold import (
    ALARM_PERIOD_S,
    DATAPOINTS_TO_ALARM,
    TABLE_GROWTH_PCTS,
    CpuCurve,
    CurvePoint,
    curve_threshold,
    threshold_table,
)
from rightsizer.demo.fault_answer import with_fault_verdicts
from rightsizer.demo.plan import THRESHOLDS, DemoPlan
from rightsizer.metrics import names
from rightsizer.report.html import write_comparison, write_report
from rightsizer.rundir import COMPARE, RunDir
from rightsizer.slo import SATURATED_CPU, Slo
from rightsizer.stepsfile import Step


@dataclass(frozen=True)
class Conclusion:
    """The answer and where it was written; `replay_rows` and `recommended`: the replay at the
    demo's period (the threshold when the curve gives none)."""

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
    facts: ReplayInput, grid: ReplayGrid, slo: Slo, limit_users: float | None
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


@dataclass(frozen=True)
class ReplayCheck:
    """The curve's threshold replayed over the recorded run at the production period: when it
    went to ALARM, how long before `event` (None: not before it), and the note that says so."""

    row: ReplayRow
    event: str
    lead_s: float | None
    note: str


def check_by_replay(
    facts: ReplayInput, threshold: float, slo: Slo, limit_users: float | None
) -> ReplayCheck:
    """Replay `threshold` at ALARM_PERIOD_S (DATAPOINTS_TO_ALARM of as many) over the run,
    against the moment its load passed `limit_users` (all tasks), else the SLO break."""
    alarm = ReplayGrid(
        base_alarm(names.CPU_UTILIZATION),
        thresholds=(threshold,),
        periods=(ALARM_PERIOD_S,),
        evaluation_periods=(DATAPOINTS_TO_ALARM,),
    ).alarms()
    passed = stand_in_event(facts.steps, limit_users) if limit_users is not None else None
    if passed is not None and passed[0].startswith("the load passed"):
        event, when = passed
        [row] = replay_facts(facts, alarm, slo, break_at=when)
    else:
        event = "the SLO broke"
        [row] = replay_facts(facts, alarm, slo)
    setting = f"{threshold:g}% at the production period ({ALARM_PERIOD_S} s, " + (
        f"{DATAPOINTS_TO_ALARM} of {DATAPOINTS_TO_ALARM})"
    )
    lead = row.lead_time_s if row.lead_time_s is not None and row.lead_time_s > 0 else None
    if row.slo_break_s is None:
        outcome = f"the run never reached its limit: {setting} cannot be judged by replay"
    elif lead is not None:
        outcome = f"replayed over the 1-task run, {setting} fired {lead:.0f} s before {event}"
    elif row.first_alarm_s is not None:
        outcome = (
            f"replayed over the 1-task run, {setting} did not fire before {event} (first ALARM "
            f"{row.first_alarm_s:.0f} s into the load, {row.slo_break_s:.0f} s to {event}): "
            "60 s averages trail a ramp this steep"
        )
    else:
        outcome = f"replayed over the 1-task run, {setting} never fired"
    return ReplayCheck(row, event, lead, outcome + _ramp(facts, limit_users, row.slo_break_s))


def _ramp(facts: ReplayInput, limit_users: float | None, to_limit_s: float | None) -> str:
    """ ", this run's load climbed about X% of U* a minute" (against the rule's g)."""
    first = min((s for s in facts.steps if s.start is not None), key=_start, default=None)
    if limit_users is None or not limit_users or to_limit_s is None or first is None:
        return ""
    if to_limit_s <= 0 or first.users >= limit_users:
        return ""
    pct = (limit_users - first.users) / limit_users * 100 / (to_limit_s / 60)
    return f"; this run's load climbed about {pct:.0f}% of U* a minute"


def _start(step: Step) -> float:
    return step.start or 0.0


def curve_answer(
    answer: Answer, plan: DemoPlan, one: RecordedRun, facts: ReplayInput, limit_users: float | None
) -> Answer | None:
    """`answer` with the threshold read off the CPU-users curve of `one` (the 1-task run) and
    its replay check in the notes; None without a curve, a limit or a threshold on it."""
    per_task = answer.users_per_task
    curve = CpuCurve.from_steps(one.steps, one.tasks) if one.tasks else None
    if curve is None or per_task is None:
        return None
    row = curve_threshold(curve, per_task, plan.reaction_s, plan.growth_pct)
    if row.threshold is None:
        return None
    check = check_by_replay(facts, row.threshold, plan.slo, limit_users)
    basis = (
        f"alarm threshold: the CPU at U* - g x T = {per_task:.0f} - "
        f"{row.growth_users:g} x {plan.reaction_s / 60:g} min = {row.alarm_users} users per task "
        f"on the 1-task run's CPU-users curve (T: {ALARM_PERIOD_S} s period x "
        f"{DATAPOINTS_TO_ALARM} datapoint + {plan.reaction_s - ALARM_PERIOD_S:g} s to start a "
        f"task; g: {plan.growth_pct:g}% of U* a minute); a faster growth needs a lower one"
    )
    return dataclasses.replace(
        answer,
        recommended_threshold=row.threshold,
        threshold_lead_s=check.lead_s,
        threshold_event=check.event,
        threshold_basis=CURVE,
        reaction_time_s=plan.reaction_s,
        growth_pct=plan.growth_pct,
        alarm_users=row.alarm_users,
        threshold_period_s=ALARM_PERIOD_S,
        threshold_table=threshold_table(
            curve, per_task, plan.reaction_s, sorted({*TABLE_GROWTH_PCTS, plan.growth_pct})
        ),
        cpu_curve=tuple(
            CurvePoint(round(p.users, 1), round(p.cpu, 1), round(p.fitted, 1)) for p in curve.points
        ),
        notes=(*answer.notes, basis, check.note),
    )


def conclude(
    plan: DemoPlan, first: Path, second: Path | None, out: Path, faulted: Path | None = None
) -> Conclusion:
    """Answer the seed's questions from the runs; write both reports and the comparison;
    `faulted`: the `--faults` phase's run, whose faults the answer judges."""
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
    facts = read_run(RunDir.open(first), grid.base)
    choice = choose_threshold(facts, grid, plan.slo, limit)
    best = choice.row
    answer = curve_answer(answer, plan, one, facts, limit) or dataclasses.replace(
        answer,
        recommended_threshold=best.alarm.threshold if best else None,
        threshold_lead_s=best.lead_time_s if best else None,
        threshold_event=choice.event,
        threshold_basis=REPLAY if best else None,
        notes=answer.notes if choice.note is None else (*answer.notes, choice.note),
    )
    if faulted is not None:
        answer = with_fault_verdicts(answer, faulted)
    reports = [write_report(first, answer, run=one).report]
    comparison = None
    if second is not None and more is not None:
        reports.append(write_report(second, answer, run=more).report)
        comparison, _ = write_comparison(first, second, out / COMPARE, runs=(one, more))
    return Conclusion(answer, choice.rows, best, tuple(reports), comparison)
