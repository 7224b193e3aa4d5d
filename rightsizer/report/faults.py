"""The report's fault table: one row per fault of faults.json (`run --fault`), and the
uploader's integrity after the run.

    view = faults_view(run_path)    # None without faults.json
    view["rows"][0]["detected_by"]  # "HAProxy (MAINT) in 0.1 s; uploader-cpu-high ALARM in 12.0 s"
    shade_faults(ax, fault_windows(run_path), t0)   # on every timeline chart (report.charts)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from rightsizer.errors import UsageError
from rightsizer.fault.record import FAULTS_FILE, FaultRecord, FaultsDocument, Window
from rightsizer.report import format as fmt
from rightsizer.report import style

if TYPE_CHECKING:
    from matplotlib.axes import Axes


class FaultWindow(NamedTuple):
    """A fault's real window in epoch seconds (start == end: an instant, like a kill)."""

    start: float
    end: float
    label: str


def _seconds(value: float | None) -> str:
    return fmt.NONE if value is None else f"{value:.1f} s"


def _window(window: Window | None) -> str:
    if window is None:
        return fmt.NONE
    p95 = fmt.NONE if window.p95_ms is None else f"{window.p95_ms:.0f} ms"
    return f"{window.requests} requests, {window.failed} failed, p95 {p95}"


def detected_by(record: FaultRecord) -> str:
    """Who saw the fault first and how fast: HAProxy taking the task out, each alarm that went
    to ALARM; "nothing" when neither did."""
    if record.started is None:
        return fmt.NONE
    seen = []
    if record.out_of_rotation is not None:
        status = next(
            (c.status for c in record.server_changes if c.time == record.out_of_rotation), "out"
        )
        seen.append(f"HAProxy ({status}) in {record.out_of_rotation - record.started:.1f} s")
    seen += [f"{a.alarm} ALARM in {a.delay:.1f} s" for a in record.alarms if a.to_state == "ALARM"]
    return "; ".join(seen) or "nothing"


def row(record: FaultRecord) -> dict[str, str]:
    done = record.started is not None
    return {
        "fault": record.fault.text,
        "mechanism": str(record.facts.get("mechanism", fmt.NONE)),
        "when": fmt.utc(record.started) if done and record.started else fmt.NONE,
        "error": record.error or "",
        "detected_by": detected_by(record),
        "back_in_rotation": _seconds(
            None
            if record.back_in_rotation is None or record.started is None
            else record.back_in_rotation - record.started
        ),
        "baseline": _window(record.baseline),
        "during": _window(record.during),
        "after": _window(record.after),
        "failed": str(record.failed) if done else fmt.NONE,
        "recovery": (
            "not recovered by the end"
            if done and record.recovery_seconds is None
            else _seconds(record.recovery_seconds)
        ),
    }


def read_faults(run_path: Path | None) -> FaultsDocument | None:
    """The run's faults.json; None without it; UsageError when it is unreadable."""
    path = None if run_path is None else run_path / FAULTS_FILE
    if path is None or not path.is_file():
        return None
    try:
        return FaultsDocument.from_json(json.loads(path.read_text()))
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"{path}: not a valid faults.json ({exc})") from None


def fault_windows(run_path: Path | None) -> list[FaultWindow]:
    """The windows of the faults that were done (none without faults.json)."""
    document = read_faults(run_path)
    if document is None:
        return []
    return [
        FaultWindow(r.started, r.ended if r.ended is not None else r.started, r.fault.kind.value)
        for r in document.faults
        if r.started is not None
    ]


def shade_faults(ax: Axes, windows: list[FaultWindow], t0: float) -> None:
    """Each fault on a timeline: its window shaded, an instant as a dashed line, its kind
    written at the bottom."""
    for window in windows:
        start, end = window.start - t0, window.end - t0
        if end > start:
            ax.axvspan(start, end, color=style.ALARM, alpha=0.12, linewidth=0, zorder=0.5)
        else:
            ax.axvline(start, color=style.ALARM, linestyle="--", linewidth=1)
        ax.annotate(
            window.label,
            xy=(start, 0.02),
            xycoords=("data", "axes fraction"),
            xytext=(3, 0),
            textcoords="offset points",
            fontsize=7.5,
            color=style.ALARM,
        )


def faults_view(run_path: Path | None) -> dict[str, Any] | None:
    """faults.json for the page; None without it; UsageError when it is unreadable."""
    document = read_faults(run_path)
    if document is None:
        return None
    integrity = document.integrity
    return {
        "rows": [row(record) for record in document.faults],
        "integrity": None if integrity is None else integrity.to_json(),
    }
