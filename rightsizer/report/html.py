"""report.html and compare.html: one self-contained file each (CSS inline, charts inline as
base64 PNG data URIs, no script, no network), written atomically. The run report's charts
are also saved under charts/*.png.

    write_report(Path("runs/...-1task"), answer=answer)   # -> .../report.html (+ answer.json)
    write_comparison(Path("runs/a"), Path("runs/b"))      # -> runs/b/compare.html
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from rightsizer import __version__
from rightsizer.alarms.agreement import AGREEMENT_FILE, AlarmAgreement
from rightsizer.analysis.answer import Answer
from rightsizer.analysis.comparison import Comparison, Measure, compare_runs
from rightsizer.analysis.recorded_run import RecordedRun, load_run
from rightsizer.errors import UsageError
from rightsizer.manifest import Manifest
from rightsizer.report import cards, compare_charts, curves, style, summary
from rightsizer.report import format as fmt
from rightsizer.report.charts import Chart, run_charts
from rightsizer.report.faults import faults_view
from rightsizer.rundir import ANSWER, CHARTS, COMPARE, REPORT, write_atomic, write_json


@functools.cache
def _templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("rightsizer.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["data_uri"] = _data_uri
    return environment


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@dataclass(frozen=True)
class Written:
    """What `write_report` produced."""

    report: Path
    charts: tuple[Path, ...]
    missing: tuple[str, ...]


def write_report(
    run_path: Path, answer: Answer | None = None, *, run: RecordedRun | None = None
) -> Written:
    """(Re)build report.html and charts/*.png of one run directory. An `answer` is kept as
    answer.json beside it; without one, an answer.json from an earlier call is used. `run`:
    the directory already loaded (`load_run`), not to read it again."""
    answer_path = run_path / ANSWER
    if answer is not None:
        write_json(answer_path, answer.to_json())
    else:
        answer = _read_answer(answer_path)
    run = run or load_run(run_path)
    charts = run_charts(run)
    saved = []
    for chart in charts:
        target = run_path / CHARTS / f"{chart.name}.png"
        write_atomic(target, chart.png)
        saved.append(target)
    report = run_path / REPORT
    write_atomic(report, render_report(run, charts, answer))
    return Written(report, tuple(saved), run.missing)


def _read_answer(path: Path) -> Answer | None:
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text())
        return Answer.from_json(raw) if isinstance(raw, Mapping) else None
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{path}: not a valid answer ({exc}); delete it to rebuild") from None


def render_report(run: RecordedRun, charts: tuple[Chart, ...], answer: Answer | None = None) -> str:
    """The report page of `run` as HTML text."""
    return (
        _templates()
        .get_template("report.html.j2")
        .render(
            title=f"rightsizer · {run.label}",
            version=__version__,
            run=_run_facts(run),
            headline=summary.headline(run),
            cards=cards.cards(run),
            answer=answer,
            answer_cards=cards.answer_cards(answer) if answer else [],
            threshold=threshold_view(answer),
            missing=run.missing,
            charts=charts,
            columns=summary.COLUMNS,
            steps=summary.step_rows(run),
            alarms=summary.alarm_rows(run),
            deployed=deployed_alarm_view(run.path),
            faults=faults_view(run.path),
            manifest=json.dumps(_as_written(run.manifest), indent=2, default=str),
        )
    )


def deployed_alarm_view(run_path: Path | None) -> dict[str, Any] | None:
    """cloudwatch_alarm.json (run --deployed-alarm) for the page: CloudWatch's transitions
    next to rightsizer's, each difference explained; None without the file."""
    path = None if run_path is None else run_path / AGREEMENT_FILE
    if path is None or not path.is_file():
        return None
    try:
        agreement = AlarmAgreement.from_json(json.loads(path.read_text()))
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"{path}: not a valid alarm comparison ({exc})") from None

    def when(t: float | None) -> str:
        return fmt.NONE if t is None else fmt.utc(t)

    rows = [
        {"state": r.new_state, "cloudwatch": when(r.cloudwatch_time),
         "rightsizer": when(r.rightsizer_time), "agree": r.agree, "note": r.note}
        for r in agreement.rows
    ]  # fmt: skip
    return {"summary": agreement.summary(), "error": agreement.history_error, "rows": rows}


def threshold_view(answer: Answer | None) -> dict[str, Any] | None:
    """The answer's threshold rule for the page: its curve (a Chart) and the table of
    thresholds by growth rate; None unless the threshold was read off the curve."""
    png = curves.cpu_threshold_curve(answer) if answer is not None else None
    if answer is None or png is None:
        return None
    chart = Chart(
        "cpu-threshold",
        "Where the CPU alarm should sit",
        f"CPU against users per task, from the 1-task run's steps. The alarm must fire at U* - g x"
        f" T users: T = {answer.reaction_time_s:.0f} s to react (alarm period x datapoints, then "
        f"a task starting and passing health checks), g = {answer.growth_pct:g}% of U* a "
        "minute; its threshold is the CPU there.",
        png,
    )
    rows = [
        {
            "growth": f"{row.growth_pct:g}% of U* ({row.growth_users:.0f} users per task)",
            "users": fmt.NONE if row.alarm_users is None else str(row.alarm_users),
            "threshold": fmt.pct(row.threshold) if row.threshold is not None else "none in time",
            "chosen": row.growth_pct == answer.growth_pct,
        }
        for row in answer.threshold_table
    ]
    return {"chart": chart, "rows": rows}


def _run_facts(run: RecordedRun) -> dict[str, Any]:
    """The header line: what the load went to (manifest["target"]), steps, time, URL."""
    users = ", ".join(str(s.users) for s in run.steps) or "–"
    return {
        "label": run.label,
        "started": fmt.utc(run.origin),
        "host": run.target.url or run.manifest.host or "–",
        "target": run.target.summary,
        "duration": fmt.clock((run.load_end or run.end) - run.origin),
        "users": f"{users} (chosen by the search, in run order)" if run.searched else users,
        "path": str(run.path or ""),
    }


def _as_written(manifest: Manifest) -> dict[str, Any]:
    """manifest.json as the file says it (as built, for a manifest never written)."""
    return dict(manifest.document) or manifest.to_json()


def write_comparison(
    a_path: Path,
    b_path: Path,
    out: Path | None = None,
    *,
    runs: tuple[RecordedRun, RecordedRun] | None = None,
) -> tuple[Path, Comparison]:
    """compare.html of run B against run A (default: inside run B's directory); `runs`: both
    already loaded."""
    a, b = runs or (load_run(a_path), load_run(b_path))
    comparison = compare_runs(a, b)
    target = out or b_path / COMPARE
    write_atomic(target, render_comparison(a, b, comparison))
    return target, comparison


def render_comparison(a: RecordedRun, b: RecordedRun, comparison: Comparison) -> str:
    bars = compare_charts.step_bars(comparison, a.slo.p95_ms)
    charts = [
        Chart(
            "compare-curves",
            "Throughput and p95 against users",
            "Both runs on the same axes.",
            curves.load_curves([(a, style.RUN_A, a.label), (b, style.RUN_B, b.label)]),
        ),
        Chart(
            "compare-timelines",
            "Over time",
            "RPS, p95 and service CPU; time since each run's load started.",
            compare_charts.timelines(a, b),
        ),
    ]
    if bars is not None:
        charts.insert(
            1,
            Chart(
                "compare-steps",
                "Per step, with confidence intervals",
                "Bars: the figure over the step's steady window; whiskers: its "
                f"{comparison.confidence:.0%} bootstrap interval.",
                bars,
            ),
        )
    return (
        _templates()
        .get_template("compare.html.j2")
        .render(
            title=f"rightsizer · {a.label} vs {b.label}",
            version=__version__,
            a=_run_facts(a),
            b=_run_facts(b),
            comparison=comparison,
            rows=compare_rows(comparison),
            per_task=per_task_rows(comparison),
            left_out=left_out(a, b, comparison),
            headlines=headlines(comparison),
            glance=cards.glance(a, b),
            charts=charts,
            missing=[f"{a.label}: {m}" for m in a.missing] + [f"{b.label}: {m}" for m in b.missing],
        )
    )


def headlines(comparison: Comparison) -> list[str]:
    """ "20 users: p95 3.86 s -> 829 ms" for each shared step, and the same for RPS and CPU
    per task (the seed's run #4 against run #5)."""
    return [
        fmt.sentence(step.users, step[measure])
        for step in comparison.steps
        for measure in (Measure.P95, Measure.RPS, Measure.CPU)
        if measure in {d.measure for d in step.differences}
    ]


def left_out(a: RecordedRun, b: RecordedRun, comparison: Comparison) -> dict[str, str]:
    """Why a part of the page is left out, one line each (keyed by the part): the per-step
    table and bars without a shared users count; the per-task columns when a task count is
    unknown (an external target)."""
    reasons = {}
    if not comparison.steps:
        reasons["steps"] = (
            "No step is compared side by side (per-step table and bars left out): the runs share "
            f"no users count (A ran {_users(a)}, B ran {_users(b)} users)."
        )
    unknown = [run.label for run in (a, b) if run.tasks is None]
    if unknown:
        reasons["per_task"] = (
            f"No per-task figures: {' and '.join(unknown)} drove an external target, whose task "
            "count is unknown."
        )
    return reasons


def _users(run: RecordedRun) -> str:
    return ", ".join(str(u) for u in sorted({s.users for s in run.steps})) or "no steps"


def per_task_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """The shared steps per task, one row each, when the runs' task counts differ: users,
    RPS (with its interval) and CPU per task in A and in B."""
    rows = []
    for step in comparison.steps:
        part = step.per_task
        if part is None:
            continue
        cpu = next((d for d in step.differences if d.measure is Measure.CPU), None)
        ratio = part.rps_ratio
        rows.append(
            {
                "users": step.users,
                "users_a": f"{part.users_a:.0f}",
                "users_b": f"{part.users_b:.0f}",
                "rps_a": fmt.measure(Measure.RPS, part.rps_a.value),
                "rps_a_value": part.rps_a.value,
                "rps_a_ci": fmt.interval(Measure.RPS, part.rps_a),
                "rps_b": fmt.measure(Measure.RPS, part.rps_b.value),
                "rps_b_value": part.rps_b.value,
                "rps_b_ci": fmt.interval(Measure.RPS, part.rps_b),
                "rps_ratio": f"×{ratio:.2f}" if ratio is not None else fmt.NONE,
                "cpu_a": fmt.measure(Measure.CPU, cpu.a.value) if cpu else fmt.NONE,
                "cpu_b": fmt.measure(Measure.CPU, cpu.b.value) if cpu else fmt.NONE,
            }
        )
    return rows


def compare_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """Table rows: one per (step, figure)."""
    rows = []
    for step in comparison.steps:
        for position, difference in enumerate(step.differences):
            kind = difference.measure
            ratio = difference.ratio
            rows.append(
                {
                    "users": step.users if position == 0 else "",
                    "span": len(step.differences) if position == 0 else 0,
                    "measure": kind.label,
                    "key": kind.value,
                    "a": fmt.measure(kind, difference.a.value),
                    "a_value": difference.a.value,
                    "a_ci": fmt.interval(kind, difference.a),
                    "b": fmt.measure(kind, difference.b.value),
                    "b_value": difference.b.value,
                    "b_ci": fmt.interval(kind, difference.b),
                    "delta": fmt.signed(kind, difference.delta.value),
                    "delta_ci": fmt.interval(kind, difference.delta),
                    "ratio": f"×{ratio:.2f}" if ratio is not None else "–",
                    "verdict": fmt.verdict(difference),
                }
            )
    return rows
