"""The charts' shared look: colours (the same meaning everywhere), figure size, time axis.

Charts use matplotlib's object-oriented `Figure` without pyplot, so nothing selects a GUI
backend or touches global state: importing this module changes nothing for other modules.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from rightsizer.report import format as fmt

# Okabe-Ito, readable for colour-blind readers; one meaning per colour across all charts.
USERS = "#9AA0A6"
RPS = "#0072B2"
P50 = "#009E73"
P90 = "#E69F00"
P95 = "#D55E00"  # the SLO's percentile: the strongest of the latency lines
P99 = "#56B4E9"
SLO = "#CC79A7"
ALARM = "#C62828"
SERVICE = "#1B2A41"
TASKS = ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#0072B2", "#F0E442", "#999999")
RUN_A = "#D55E00"
RUN_B = "#0072B2"
STEP_BAND = "#F1F3F5"
TEXT = "#334155"
GRID = "#E2E8F0"

WIDTH_IN = 10.0
DPI = 120


def task_colour(position: int) -> str:
    return TASKS[position % len(TASKS)]


def figure(
    height_in: float = 3.0, columns: int = 1, rows: int = 1, share_x: bool = False
) -> tuple[Figure, list[Axes]]:
    """A report-width figure with `rows` x `columns` axes (row by row), styled."""
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    axes = list(fig.subplots(rows, columns, squeeze=False, sharex=share_x).flat)
    for ax in axes:
        style(ax)
    return fig, axes


def style(ax: Axes) -> None:
    ax.set_facecolor("white")
    ax.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#94A3B8")
    ax.tick_params(colors=TEXT, labelsize=9)
    ax.xaxis.label.set_color(TEXT)
    ax.yaxis.label.set_color(TEXT)


def time_axis(ax: Axes, start: float, end: float) -> None:
    """x in seconds since the run started, labelled m:ss."""
    ax.set_xlim(start, max(end, start + 1))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 1.5, 2, 3, 5, 6, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: fmt.clock(x)))
    ax.set_xlabel("time since the load started (m:ss)")


def ms_axis(ax: Axes, values: Sequence[float]) -> None:
    """y in milliseconds, logarithmic when the values span more than 20x, labelled ms / s."""
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 20:
        ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: fmt.ms(y)))


def step_bands(ax: Axes, bands: Sequence[tuple[float, float, str]], label: bool) -> None:
    """Every other step lightly shaded; with `label`, each step's users written at the top."""
    for position, (start, end, text) in enumerate(bands):
        if position % 2 == 0:
            ax.axvspan(start, end, color=STEP_BAND, zorder=0, linewidth=0)
        if label:
            ax.annotate(
                text,
                xy=((start + end) / 2, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8.5,
                color=TEXT,
            )


def smooth(values: tuple[float, ...], width: int) -> np.ndarray:
    """Centred moving average that keeps the ends (shorter windows there)."""
    data = np.asarray(values, dtype=float)
    if not len(data):
        return data
    # np.convolve's "same" gives max(len, width) points: never let the window outgrow the data.
    kernel = np.ones(max(1, min(width, len(data))))
    sums = np.convolve(data, kernel, mode="same")
    counts = np.convolve(np.ones_like(data), kernel, mode="same")
    return np.asarray(sums / counts)


def legend(fig: Figure, axes: Sequence[Axes], columns: int = 8) -> None:
    """One legend under the plots for every labelled line of `axes` (each label once)."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(
            list(handles.values()),
            list(handles),
            loc="outside lower left",
            ncols=min(columns, len(handles)),
            frameon=False,
            fontsize=9,
            labelcolor=TEXT,
        )


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (no timestamp in the metadata, so output is reproducible)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white", metadata={"Software": None})
    return buffer.getvalue()
