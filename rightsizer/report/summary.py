"""What the report page says about one run, as plain values for the template: the headline,
the per-step table and the alarm history (the figure cards are in rightsizer.report.cards).

Cells carry the raw number beside the text (`data-value` in the HTML) so tests, and anyone
scraping the page, can check it against steps.json.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rightsizer.analysis.bottleneck import Part, name_bottleneck
from rightsizer.analysis.limit import LimitPoint, Verdict, limit_of_steps, settled
from rightsizer.analysis.recorded_run import RecordedRun
from rightsizer.analysis.slo_limit import MEASURED, breaches
from rightsizer.analysis.target import UNCAPPED, RecordedTarget, TargetKind, plural
from rightsizer.report import format as fmt
from rightsizer.stepsfile import Step


@dataclass(frozen=True)
class Cell:
    key: str
    text: str
    value: float | None = None
    tone: str = ""


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    render: Callable[[Step], tuple[str, float | None]]


def _ms(attribute: str) -> Callable[[Step], tuple[str, float | None]]:
    return lambda s: (fmt.ms(getattr(s, attribute)), getattr(s, attribute))


def _pct(attribute: str) -> Callable[[Step], tuple[str, float | None]]:
    return lambda s: (fmt.pct(getattr(s, attribute), 1), getattr(s, attribute))


COLUMNS = (
    Column("users", "Users", lambda s: (str(s.users), float(s.users))),
    Column(
        "requests_total",
        "Requests",
        lambda s: (fmt.count(s.requests_total), _f(s.requests_total)),
    ),
    Column("failure_pct", "Failures", lambda s: (fmt.pct(s.failure_pct, 1), s.failure_pct)),
    Column("rps", "RPS", lambda s: (fmt.rps(s.rps), s.rps)),
    Column("p50_ms", "p50", _ms("p50_ms")),
    Column("p90_ms", "p90", _ms("p90_ms")),
    Column("p95_ms", "p95", _ms("p95_ms")),
    Column("p99_ms", "p99", _ms("p99_ms")),
    Column("max_ms", "Max", _ms("max_ms")),
    Column("cpu_utilization", "CPU avg", _pct("cpu_utilization")),
    Column("cpu_utilization_max", "CPU max", _pct("cpu_utilization_max")),
    Column("memory_utilization", "Memory", _pct("memory_utilization")),
    Column("generator_cpu", "Gen. CPU", _pct("generator_cpu")),
)


def _f(value: int | None) -> float | None:
    return None if value is None else float(value)


def step_rows(run: RecordedRun) -> list[dict[str, Any]]:
    """One row per step in run order: cells, the limit rule's verdict (the SLO, nothing
    served, past the knee; a step left for its repeat is not judged), per-request-name
    details."""
    limit = limit_of_steps(run.steps, run.slo)
    left = {p.index for p in limit.repeated}
    rows = []
    for step in run.steps:
        point = LimitPoint.of_step(step)
        judged = limit.verdict(point)
        # Each figure judged on its own by the one SLO, so a cell is red exactly when the
        # SLO names that figure among the step's breaches.
        missed = {
            "p95_ms": not run.slo.met(step.p95_ms, None),
            "failure_pct": not run.slo.met(None, step.failure_pct),
        }
        cells = []
        for column in COLUMNS:
            text, value = column.render(step)
            cells.append(Cell(column.key, text, value, "bad" if missed.get(column.key) else ""))
        which = ", ".join(
            name for key, name in (("p95_ms", "p95"), ("failure_pct", "failures")) if missed[key]
        )
        rows.append(
            {
                "index": step.index,
                "users": step.users,
                "cells": cells,
                "slo": _verdict_text(judged, which, step.index in left)
                + ("" if settled(point, run.slo) else " (p95 still moving)"),
                "slo_reason": "; ".join(breaches(step, run.slo)),
                "slo_tone": "" if judged is Verdict.UNKNOWN else "bad" if judged.bad else "good",
                "generator_bound": step.generator_bound,
                "lost_workers": ", ".join(step.lost_workers),
                "start": fmt.clock(step.start - run.origin) if step.start is not None else "–",
                "requests": [
                    {
                        "name": r.name,
                        "count": fmt.count(r.count),
                        "failures": fmt.count(r.failures),
                        "rps": fmt.rps(r.rps),
                        "p50": fmt.ms(r.p50_ms),
                        "p95": fmt.ms(r.p95_ms),
                        "p99": fmt.ms(r.p99_ms),
                        "max": fmt.ms(r.max_ms),
                    }
                    for r in step.requests
                ],
                "arrival": _arrival(step),
            }
        )
    return rows


def _arrival(step: Step) -> dict[str, str] | None:
    """An open-model step's figures as the report shows them (None: a closed-model step)."""
    a = step.arrival
    if a is None:
        return None
    return {
        "rate": fmt.rps(a.intended_rate),
        "achieved": fmt.rps(a.achieved_rate),
        "started": f"{fmt.count(a.iterations_started)} of {fmt.count(a.iterations_due)}",
        "late": fmt.count(a.late_starts),
        "dropped": fmt.count(a.dropped_starts),
        "needed": fmt.count(a.users_needed),
        "p95": fmt.ms(step.p95_ms),
        "corrected_p95": fmt.ms(a.corrected_p95_ms),
        "corrected_max": fmt.ms(a.corrected_max_ms),
    }


def _verdict_text(verdict: Verdict, which: str, repeated: bool) -> str:
    if repeated:
        return "repeated: not judged"
    if verdict is Verdict.MISSED:
        return f"missed: {which}"
    return "–" if verdict is Verdict.UNKNOWN else verdict.value


def headline(run: RecordedRun) -> list[tuple[str, bool]]:
    """One sentence in (text, bold) pieces: what the target was (from manifest["target"],
    never the settings' defaults), where its limit lies (the one rule's last good and first
    bad step), the knee and what limits."""
    parts = _who(run.target)
    limit = limit_of_steps(run.steps, run.slo)
    knee = limit.knee
    if limit.low is None and limit.high is None:
        parts.append((" had no step to judge", False))
    elif limit.low is None:
        parts += [(" was past its limit at its first step, ", False), (f"{limit.high} users", True)]
    elif limit.high is None:
        parts += [
            (" stayed within the SLO up to ", False),
            (f"at least {limit.low} users", True),
            (f" ({MEASURED})", False),
        ]
    else:
        parts += [
            (" reached its limit between ", False),
            (f"{limit.low} and {limit.high} users", True),
            (" (the last good and the first bad step)", False),
        ]
    if knee is not None and knee.reached:
        parts += [
            ("; throughput stopped growing at ", False),
            (f"≈ {fmt.users(knee.users)} users", True),
        ]
    part = name_bottleneck(run).part
    if part is not Part.NOTHING_YET:
        parts += [("; what limits: ", False), (part.value, True)]
    parts.append((".", False))
    return parts


def _who(target: RecordedTarget) -> list[tuple[str, bool]]:
    if target.kind is TargetKind.HOST:
        return [("An external target", True), (" (tasks unknown)", False)]
    if target.kind is TargetKind.UNKNOWN or target.tasks is None:
        return [("The target", True), (f" ({target.summary})", False)]
    tasks = plural(target.tasks, "task")
    if target.capped is False:
        return [(tasks, True), (", ", False), (UNCAPPED, True), (",", False)]
    return [(tasks, True), (f" ({target.caps})", False)]


def alarm_rows(run: RecordedRun) -> list[dict[str, Any]]:
    """Each alarm's definition in words and its transitions with reasons."""
    rows = []
    for alarm in run.alarms:
        d = alarm.definition
        statistic = d.get("Statistic") or d.get("ExtendedStatistic") or "?"
        rule = (
            f"{d.get('MetricName', '?')} {statistic} over {d.get('Period', '?')} s, "
            f"{d.get('DatapointsToAlarm', d.get('EvaluationPeriods', '?'))} of "
            f"{d.get('EvaluationPeriods', '?')}, {d.get('ComparisonOperator', '?')} "
            f"{d.get('Threshold', '?')}"
        )
        history = [
            {
                "clock": fmt.clock(h.timestamp - run.origin),
                "utc": fmt.utc(h.timestamp),
                "old": h.old_state,
                "new": h.new_state,
                "reason": h.reason,
            }
            for h in alarm.history
        ]
        rows.append(
            {
                "name": alarm.name,
                "rule": rule if d else "definition not recorded",
                "history": history,
                "failed_actions": [
                    f"{fmt.utc(a.time)} {a.new_state} {a.action}: {a.detail}"
                    for a in alarm.actions
                    if not a.ok
                ],
            }
        )
    return rows
