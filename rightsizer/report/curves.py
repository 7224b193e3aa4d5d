"""The answer as a picture: throughput and p95 against users, one colour per run.

Left: RPS per step, with the two lines whose meeting point is the knee (linear growth at the
low-load rate per user, and the peak). Right: p95 per step, the SLO line, and where the SLO
breaks. Used by the run report (one run) and the comparison (both runs on the same axes).

`cpu_threshold_curve`: the answer's CPU against users per task, with the limit U* and the
alarm threshold read off the curve at U* - g x T (and the table's other growth rates).
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes

from rightsizer.analysis.answer import Answer
from rightsizer.analysis.limit import limit_of_steps
from rightsizer.analysis.recorded_run import RecordedRun
from rightsizer.analysis.slo_limit import users_at_slo
from rightsizer.analysis.step_points import load_points
from rightsizer.report import format as fmt
from rightsizer.report import style


def load_curves(runs: Sequence[tuple[RecordedRun, str, str]], annotate: bool = True) -> bytes:
    """PNG of both panels for (run, colour, label) triples."""
    fig, (left, right) = style.figure(3.4, columns=2)
    top_users = max((s.users for run, _, _ in runs for s in run.steps), default=1)
    for position, (run, colour, label) in enumerate(runs):
        _throughput(left, run, colour, label, annotate)
        _p95(right, run, colour, label, annotate=annotate, position=position)
    slo = runs[0][0].slo.p95_ms if runs else 1000.0
    right.axhline(slo, color=style.SLO, linestyle="--", linewidth=1.5, label=f"SLO {fmt.ms(slo)}")
    p95s = [s.p95_ms for run, _, _ in runs for s in run.steps if s.p95_ms is not None]
    style.ms_axis(right, [*p95s, slo])
    style.legend(fig, [left, right])
    for ax in (left, right):
        ax.set_xlim(0, top_users * 1.08)
        ax.set_xlabel("users")
    left.set_ylim(bottom=0)
    left.set_ylabel("requests / s")
    left.set_title("Throughput", fontsize=10, color=style.TEXT, loc="left")
    right.set_ylabel("p95 response time")
    right.set_title("p95 per step", fontsize=10, color=style.TEXT, loc="left")
    return style.png(fig)


def _throughput(ax: Axes, run: RecordedRun, colour: str, label: str, annotate: bool) -> None:
    points = load_points(run.steps)
    if not points:
        return
    ax.plot(
        [p.users for p in points],
        [p.throughput for p in points],
        color=colour,
        marker="o",
        linewidth=2,
        label=label,
    )
    knee = limit_of_steps(run.steps, run.slo).knee  # the answer's knee: the judged steps'
    if knee is None or not annotate:
        return
    right_end = max(p.users for p in points) * 1.08
    ax.plot(
        [0, knee.users],
        [0, knee.peak_throughput],
        color=colour,
        linestyle="--",
        linewidth=1,
        alpha=0.6,
    )
    ax.plot(
        [knee.users, right_end],
        [knee.peak_throughput] * 2,
        color=colour,
        linestyle="--",
        linewidth=1,
        alpha=0.6,
    )
    text = f"knee ≈ {fmt.users(knee.users)} users" if knee.reached else "no knee yet"
    ax.annotate(
        text,
        xy=(knee.users, knee.peak_throughput),
        xytext=(6, -14),
        textcoords="offset points",
        fontsize=8.5,
        color=colour,
    )


def _p95(
    ax: Axes, run: RecordedRun, colour: str, label: str, *, annotate: bool, position: int
) -> None:
    points = sorted((s.users, s.p95_ms) for s in run.steps if s.p95_ms is not None)
    if not points:
        return
    ax.plot(
        [users for users, _ in points],
        [p95 for _, p95 in points],
        color=colour,
        marker="o",
        linewidth=2,
        label=label,
    )
    limit = users_at_slo(run.steps, run.slo)
    if not annotate or limit.users is None or not limit.broke:
        return
    ax.axvline(limit.users, color=colour, linestyle=":", linewidth=1.2)
    ax.annotate(
        f"SLO breaks ≈ {fmt.users(limit.users)} users",
        xy=(limit.users, 0.97 - 0.08 * position),
        xycoords=("data", "axes fraction"),
        xytext=(4, 0),
        textcoords="offset points",
        fontsize=8.5,
        color=colour,
        va="top",
    )


def cpu_threshold_curve(answer: Answer) -> bytes | None:
    """PNG of the CPU-users curve the threshold was read from: the measured steps, the curve
    (non-decreasing, straight to the origin below the first step), U*, and the threshold at
    U* - g x T, with the table's other growth rates as ticks; None without a curve."""
    curve, limit, threshold = answer.cpu_curve, answer.users_per_task, answer.recommended_threshold
    if not curve or limit is None or threshold is None or answer.alarm_users is None:
        return None
    fig, (ax,) = style.figure(3.4)
    ax.plot(
        [0.0, *(p.users for p in curve)],
        [0.0, *(p.fitted for p in curve)],
        color=style.SERVICE,
        linewidth=2,
        label="CPU against users (the curve)",
    )
    ax.plot(
        [p.users for p in curve],
        [p.cpu for p in curve],
        linestyle="none",
        marker="o",
        color=style.RPS,
        label="measured steps (steady window)",
    )
    ax.axvline(limit, color=style.SLO, linestyle="--", linewidth=1.5, label=f"U* {limit:.0f}")
    users = answer.alarm_users
    ax.plot([users, users, 0], [0, threshold, threshold], color=style.ALARM, linestyle=":")
    ax.plot([users], [threshold], marker="D", color=style.ALARM, linestyle="none",
            label=f"threshold {threshold:.0f}% at U* - g x T = {users}")  # fmt: skip
    for row in answer.threshold_table:
        if row.alarm_users is None or row.threshold is None or row.growth_pct == answer.growth_pct:
            continue
        ax.plot([row.alarm_users], [row.threshold], marker="|", markersize=12,
                color=style.ALARM, linestyle="none", alpha=0.6)  # fmt: skip
        ax.annotate(
            f"g {row.growth_pct:g}%",
            xy=(row.alarm_users, row.threshold),
            xytext=(3, 6),
            textcoords="offset points",
            fontsize=8,
            color=style.ALARM,
        )
    ax.axhline(answer.seed_threshold, color=style.USERS, linestyle="--", linewidth=1,
               label=f"seed's threshold {answer.seed_threshold:g}%")  # fmt: skip
    ax.set_xlim(0, max(limit, curve[-1].users) * 1.05)
    ax.set_ylim(0, 105)
    ax.set_xlabel("users per task")
    ax.set_ylabel("CPU, % of the reservation")
    ax.legend(loc="lower right", frameon=False, fontsize=8.5, labelcolor=style.TEXT)
    return style.png(fig)
