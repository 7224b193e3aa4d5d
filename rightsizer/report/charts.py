"""A run's charts over time, as PNG: users and RPS; p50/p90/p95/p99 against the SLO; task
CPU with what the alarm evaluated, its threshold and ALARM periods; memory. Time is seconds
since the load started (m:ss).

A chart without data is left out (None) and the report says what is missing.

    for chart in run_charts(run): (run_path / CHARTS / f"{chart.name}.png").write_bytes(chart.png)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes

from rightsizer.analysis.alarm_episodes import alarm_episodes
from rightsizer.analysis.recorded_run import Alarm, RecordedRun
from rightsizer.analysis.time_series import Series
from rightsizer.metrics import names
from rightsizer.metrics.statistics import percentile
from rightsizer.metrics.store import Datapoint
from rightsizer.report import curves, style
from rightsizer.report import format as fmt
from rightsizer.report.faults import fault_windows, shade_faults

SMOOTH_S = 5
# A line breaks where samples are further apart than this many usual steps (a sampler gap).
GAP_STEPS = 2.5
# p95 is the SLO's own percentile: drawn solid against the SLO line, the others dashed.
SLO_PERCENTILE = 95
PERCENTILES = ((50, style.P50), (90, style.P90), (SLO_PERCENTILE, style.P95), (99, style.P99))


@dataclass(frozen=True)
class Chart:
    """One picture: `name` is its file stem under charts/, `png` its bytes."""

    name: str
    title: str
    caption: str
    png: bytes


def run_charts(run: RecordedRun) -> tuple[Chart, ...]:
    """Every chart the run has data for, in reading order."""
    makers: tuple[Callable[[RecordedRun], Chart | None], ...] = (
        load_curve_chart,
        users_rps_chart,
        latency_chart,
        cpu_chart,
        memory_chart,
    )
    return tuple(chart for make in makers if (chart := make(run)) is not None)


def load_curve_chart(run: RecordedRun) -> Chart | None:
    if len([s for s in run.steps if s.rps is not None]) < 1:
        return None
    return Chart(
        "load-curve",
        "Throughput and p95 against users",
        "Left: requests per second at each step; the dashed lines are linear growth and the "
        "peak, meeting at the knee. Right: p95 per step against the SLO.",
        curves.load_curves([(run, style.RPS, run.label)], annotate=True),
    )


def users_rps_chart(run: RecordedRun) -> Chart | None:
    rps = run.rps or run.latency.buckets(1.0, len)
    if not rps and not run.users:
        return None
    fig, (ax,) = style.figure(3.0)
    t0 = run.origin
    if rps:
        times = np.asarray(rps.times) - t0
        ax.plot(times, rps.values, color=style.RPS, alpha=0.25, linewidth=0.8)
        ax.plot(
            times, style.smooth(rps.values, 5), color=style.RPS, linewidth=2, label="RPS (5 s mean)"
        )
    ax.set_ylabel("requests / s")
    ax.set_ylim(bottom=0)
    if run.users:
        users_ax = ax.twinx()
        users_ax.step(
            np.asarray(run.users.times) - t0,
            run.users.values,
            where="mid",
            color=style.USERS,
            linewidth=1.5,
            label="users",
        )
        users_ax.set_ylabel("users", color=style.TEXT)
        users_ax.set_ylim(0, max(run.users.values) * 1.25)
        users_ax.tick_params(colors=style.TEXT, labelsize=9)
        users_ax.spines["top"].set_visible(False)
        ax.plot([], [], color=style.USERS, linewidth=1.5, label="users (right axis)")
    _frame(ax, run, label_steps=True)
    style.legend(fig, [ax])
    return Chart(
        "users-rps",
        "Users and requests per second",
        "Load and throughput over time.",
        style.png(fig),
    )


def latency_chart(run: RecordedRun) -> Chart | None:
    if not run.latency:
        return None
    fig, (ax,) = style.figure(3.0)
    width = _bucket_width(run)
    t0 = run.origin
    drawn: list[float] = []
    lines = latency_lines(run, width)
    for p, colour in PERCENTILES:
        series = lines[p]
        ax.plot(
            np.asarray(series.times) - t0,
            series.values,
            color=colour,
            linewidth=1.8,
            marker="o",
            markersize=2.5,
            label=f"p{p}",
            linestyle="-" if p == SLO_PERCENTILE else (0, (4, 2)),
        )
        drawn += series.values
    ax.axhline(
        run.slo.p95_ms,
        color=style.SLO,
        linestyle="--",
        linewidth=1.5,
        label=f"SLO: p95 < {fmt.ms(run.slo.p95_ms)}",
    )
    style.ms_axis(ax, [*drawn, run.slo.p95_ms])
    ax.set_ylabel("response time")
    _frame(ax, run, label_steps=True)
    style.legend(fig, [ax])
    return Chart(
        "latency",
        "Response times",
        f"Nearest-rank percentiles over {width:g}-second windows; p95 (solid) is the one the "
        "SLO limits.",
        style.png(fig),
    )


def latency_lines(run: RecordedRun, width: float) -> dict[int, Series]:
    """The latency chart's lines: each drawn percentile (the SLO's p95 among them) of the
    raw response times per `width`-second window from the load start, nearest-rank."""
    return {
        p: run.latency.buckets(width, _percentile(p), origin=run.origin) for p, _ in PERCENTILES
    }


def alarm_line(run: RecordedRun, metric: str) -> tuple[Alarm, np.ndarray, np.ndarray] | None:
    """The service line of a utilization chart when an alarm watches `metric`: the alarm,
    and the stairs' edges (epoch seconds) and values, one stair per datapoint it evaluated
    (its statistic per period over the raw samples; NaN where a period had none)."""
    watched = next((a for a in run.alarms if a.metric_name == metric and a.view and a.period), None)
    if watched is None or watched.period is None:
        return None
    edges, values = _stairs(watched.view, watched.period)
    return watched, edges, values


def cpu_chart(run: RecordedRun) -> Chart | None:
    return _utilization_chart(
        run,
        metric=names.CPU_UTILIZATION,
        tasks=run.task_cpu,
        service=run.service_cpu,
        name="cpu",
        title="Task CPU",
        unit="% of the CPU reservation",
    )


def memory_chart(run: RecordedRun) -> Chart | None:
    return _utilization_chart(
        run,
        metric=names.MEMORY_UTILIZATION,
        tasks=run.task_memory,
        service=run.service_memory,
        name="memory",
        title="Task memory",
        unit="% of the memory limit",
    )


def _utilization_chart(
    run: RecordedRun,
    *,
    metric: str,
    tasks: Mapping[str, Series],
    service: Series,
    name: str,
    title: str,
    unit: str,
) -> Chart | None:
    if not service and not tasks:
        return None
    fig, (ax,) = style.figure(3.0)
    t0 = run.origin
    for position, (task, series) in enumerate(tasks.items()):
        ax.plot(
            *broken_at_gaps(np.asarray(series.times) - t0, style.smooth(series.values, SMOOTH_S)),
            color=style.task_colour(position),
            linewidth=1.0,
            alpha=0.85,
            label=f"task {task}",
        )
    alarms = [a for a in run.alarms if a.metric_name == metric]
    line = alarm_line(run, metric)
    watched = line[0] if line else None
    if line is not None:
        # Exactly what the alarm evaluated: its statistic per epoch-aligned period over the
        # raw samples of its series (a mean of per-second means would weigh seconds, not
        # samples, and differ whenever a task starts or stops within a period).
        alarm, edges, values = line
        ax.stairs(
            values,
            edges - t0,
            color=style.SERVICE,
            linewidth=2.2,
            baseline=None,
            label=f"service {alarm.statistic or 'statistic'} per {alarm.period:g} s "
            f"(what {alarm.name} evaluates)",
        )
    elif service:
        ax.plot(
            *broken_at_gaps(np.asarray(service.times) - t0, style.smooth(service.values, SMOOTH_S)),
            color=style.SERVICE,
            linewidth=2.2,
            label="service average",
        )
    viewed = [p.value for a in alarms for p in a.view]
    top = max([100.0, *service.values, *viewed, *(v for s in tasks.values() for v in s.values)])
    caption = f"Per task ({SMOOTH_S} s means) and the service, in {unit}."
    if watched is not None and watched.period is not None:
        caption += (
            f" The service line is the alarm's own datapoints: {watched.statistic} of the "
            f"raw samples per {watched.period:g} s period."
        )
    for alarm in alarms:
        for episode in alarm_episodes(alarm.history, until=run.end):
            ax.axvspan(
                episode.start - t0, episode.end - t0, color=style.ALARM, alpha=0.12, linewidth=0
            )
        if alarm.threshold is not None:
            ax.axhline(
                alarm.threshold,
                color=style.ALARM,
                linestyle="--",
                linewidth=1.5,
                label=f"alarm {alarm.name}: {alarm.threshold:g}%",
            )
        ax.fill_between([], [], color=style.ALARM, alpha=0.12, label="in ALARM")
        caption += " Red bands: the alarm was in ALARM."
    ax.set_ylim(0, top * 1.08)
    ax.set_ylabel(unit.replace("% of the ", "% of "))
    _frame(ax, run, label_steps=False)
    style.legend(fig, [ax])
    return Chart(name, title, caption, style.png(fig))


def broken_at_gaps(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The line's points with a NaN (a break in the drawn line) wherever two samples are more
    than GAP_STEPS times the usual step (the median) apart: seconds the sampler did not record
    are drawn as a gap, not as a straight line across."""
    steps = np.diff(times)
    usual = steps[steps > 0]
    if len(usual) < 2:
        return times, values
    gaps = np.flatnonzero(steps > GAP_STEPS * float(np.median(usual)))
    if not len(gaps):
        return times, values
    middles = times[gaps] + steps[gaps] / 2
    return np.insert(times, gaps + 1, middles), np.insert(values.astype(float), gaps + 1, np.nan)


def _stairs(view: Sequence[Datapoint], period: float) -> tuple[np.ndarray, np.ndarray]:
    """Edges and values for `Axes.stairs`: one stair per datapoint, a gap (NaN) for every
    period without one, as the alarm had no datapoint then."""
    first = view[0].timestamp
    slots = round((view[-1].timestamp - first) / period) + 1
    values = np.full(slots, np.nan)
    for point in view:
        values[round((point.timestamp - first) / period)] = point.value
    return first + period * np.arange(slots + 1), values


def _frame(ax: Axes, run: RecordedRun, label_steps: bool) -> None:
    t0 = run.origin
    bands = [
        (s.start - t0, s.end - t0, f"{s.users} users")
        for s in run.steps
        if s.start is not None and s.end is not None
    ]
    style.step_bands(ax, bands, label=label_steps)
    shade_faults(ax, fault_windows(run.path), t0)  # `run --fault`: each fault's window
    if run.load_end is not None and run.end > run.load_end + 1:
        ax.axvline(run.load_end - t0, color=style.TEXT, linestyle=":", linewidth=1)
        ax.annotate(
            "load stopped",
            xy=(run.load_end - t0, 0.94),
            xycoords=("data", "axes fraction"),
            xytext=(4, 0),
            textcoords="offset points",
            fontsize=8,
            color=style.TEXT,
        )
    style.time_axis(ax, 0.0, run.end - t0)


def _percentile(p: float) -> Callable[[Sequence[float]], float]:
    return lambda values: percentile(sorted(values), p)


def _bucket_width(run: RecordedRun) -> float:
    """Percentile windows: about 60 across the run, at least 5 s so low loads have samples."""
    span = max(1.0, run.end - run.origin)
    return next((w for w in (5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0) if span / w <= 60), 600.0)
