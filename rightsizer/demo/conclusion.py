"""From the demo's runs to the answer: replay the CPU alarm, build the answer, write the pages.

conclusion = conclude(plan, first_run, second_run)
conclusion.answer.lines()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rightsizer.alarms.replay import ReplayGrid, ReplayRow, base_alarm, recommend, replay
from rightsizer.analysis.answer import Answer, build_answer
from rightsizer.analysis.run import load_run
from rightsizer.demo.plan import THRESHOLDS, DemoPlan
from rightsizer.metrics import names
from rightsizer.report.html import write_comparison, write_report
from rightsizer.rundir import COMPARE, RunDir


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


def conclude(plan: DemoPlan, first: Path, second: Path | None, out: Path) -> Conclusion:
    """Answer the seed's questions from the runs; write both reports and the comparison."""
    rows = replay_thresholds(plan, first)
    best = recommend(rows)
    answer = build_answer(
        load_run(first),
        load_run(second) if second is not None else None,
        target_users=plan.target_users,
        headroom=plan.headroom,
        recommended_threshold=best.alarm.threshold if best else None,
        threshold_lead_s=best.lead_time_s if best else None,
        seed_threshold=plan.seed_threshold,
    )
    reports = [write_report(first, answer).report]
    comparison = None
    if second is not None:
        reports.append(write_report(second, answer).report)
        comparison, _ = write_comparison(first, second, out / COMPARE)
    return Conclusion(answer, tuple(rows), best, tuple(reports), comparison)
