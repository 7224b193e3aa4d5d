"""Charts of two runs together: run A in vermillion, run B in blue, everywhere.

- `timelines`: RPS, p95 and service CPU over time, both runs overlaid (time since each run's
  own load start, so steps line up when both ran the same steps);
- `step_bars`: p95, RPS and CPU per task per users count with their bootstrap intervals.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from rightsizer.analysis.comparison import Comparison, Estimate, Measure, StepComparison
from rightsizer.analysis.recorded_run import RecordedRun
from rightsizer.metrics.statistics import percentile
from rightsizer.report import format as fmt
from rightsizer.report import style

P95_WINDOW_S = 5.0


def timelines(a: RecordedRun, b: RecordedRun) -> bytes:
    """Three stacked panels sharing the time axis."""
    fig, (rps_ax, p95_ax, cpu_ax) = style.figure(6.6, rows=3, share_x=True)
    latencies: list[float] = []
    for run, colour in ((a, style.RUN_A), (b, style.RUN_B)):
        t0 = run.origin
        rps = run.rps or run.latency.buckets(1.0, len)
        if rps:
            rps_ax.plot(
                np.asarray(rps.times) - t0,
                style.smooth(rps.values, 5),
                color=colour,
                linewidth=1.8,
                label=run.label,
            )
        if run.latency:
            p95 = run.latency.buckets(P95_WINDOW_S, lambda v: percentile(sorted(v), 95), origin=t0)
            p95_ax.plot(
                np.asarray(p95.times) - t0,
                p95.values,
                color=colour,
                linewidth=1.8,
                marker="o",
                markersize=2.5,
                label=run.label,
            )
            latencies += p95.values
        if run.service_cpu:
            cpu_ax.plot(
                np.asarray(run.service_cpu.times) - t0,
                run.service_cpu.values,
                color=colour,
                linewidth=1.5,
                label=run.label,
            )
    slo = a.slo.p95_ms
    p95_ax.axhline(slo, color=style.SLO, linestyle="--", linewidth=1.3, label=f"SLO {fmt.ms(slo)}")
    style.ms_axis(p95_ax, [*latencies, slo])
    rps_ax.set_ylabel("requests / s")
    p95_ax.set_ylabel(f"p95 ({P95_WINDOW_S:g} s windows)")
    cpu_ax.set_ylabel("CPU, % of reservation")
    rps_ax.set_ylim(bottom=0)
    cpu_ax.set_ylim(bottom=0)
    end = max(a.end - a.origin, b.end - b.origin)
    style.time_axis(cpu_ax, 0.0, end)
    for ax in (rps_ax, p95_ax):
        ax.set_xlabel("")
    for ax in (rps_ax, p95_ax, cpu_ax):
        ax.legend(loc="upper left", frameon=False, fontsize=8.5, labelcolor=style.TEXT)
    return style.png(fig)


def step_bars(comparison: Comparison, slo_ms: float | None = None) -> bytes | None:
    """p95 (left, with the SLO line), RPS (middle) and CPU per task (right) per users count,
    bars with their intervals; None when the runs share no users count."""
    if not comparison.steps:
        return None
    fig, (p95_ax, rps_ax, cpu_ax) = style.figure(3.2, columns=3)
    _bars(p95_ax, comparison, Measure.P95)
    _bars(rps_ax, comparison, Measure.RPS)
    _bars(cpu_ax, comparison, Measure.CPU)
    p95_ax.yaxis.set_major_formatter(lambda y, _: fmt.ms(y))
    p95_ax.set_ylabel("p95 response time")
    rps_ax.set_ylabel("requests / s")
    cpu_ax.set_ylabel("% of each task's reservation")
    if slo_ms is not None:
        p95_ax.axhline(slo_ms, color=style.SLO, linestyle="--", linewidth=1.2, label="SLO")
    return style.png(fig)


def _bars(ax: Axes, comparison: Comparison, measure: Measure) -> None:
    users = [s.users for s in comparison.steps]
    x = np.arange(len(users))
    width = 0.38
    for offset, side, colour, label in (
        (-width / 2, "a", style.RUN_A, comparison.a_label),
        (width / 2, "b", style.RUN_B, comparison.b_label),
    ):
        estimates = [_side(s, measure, side) for s in comparison.steps]
        values = [e.value if e.value is not None else np.nan for e in estimates]
        low = [
            v - e.low if e.low is not None else 0.0 for v, e in zip(values, estimates, strict=True)
        ]
        high = [
            e.high - v if e.high is not None else 0.0
            for v, e in zip(values, estimates, strict=True)
        ]
        ax.bar(x + offset, values, width, color=colour, alpha=0.85, label=label)
        ax.errorbar(
            x + offset,
            values,
            yerr=[np.maximum(low, 0), np.maximum(high, 0)],
            fmt="none",
            ecolor=style.TEXT,
            elinewidth=1,
            capsize=3,
        )
    ax.set_xticks(x, [f"{u} users" for u in users])
    ax.set_title(
        f"{measure.label} ({comparison.confidence:.0%} interval)",
        fontsize=10,
        color=style.TEXT,
        loc="left",
    )
    ax.legend(loc="upper left", frameon=False, fontsize=8.5, labelcolor=style.TEXT)


def _side(step: StepComparison, measure: Measure, side: str) -> Estimate:
    """Run A's or B's estimate of `measure` at `step` (none when it was not compared)."""
    found = next((d for d in step.differences if d.measure is measure), None)
    return Estimate(None) if found is None else found.a if side == "a" else found.b
