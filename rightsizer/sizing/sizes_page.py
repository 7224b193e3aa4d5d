"""sizes.html: the recommendation in one sentence at the top, one row per size, and charts of
users per task and of dollars per 1,000 users per hour by size. One self-contained file.

    path = write_sizes_page(document, directory)
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path

import jinja2

from rightsizer import __version__
from rightsizer.report import style
from rightsizer.report.charts import Chart
from rightsizer.rundir import write_atomic
from rightsizer.sizing.sizes_document import SizeRow, SizesDocument
from rightsizer.sizing.table import COLUMNS, size_cells

PAGE = "sizes.html"


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.cache
def _templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("rightsizer.sizing", "templates"),
                jinja2.PackageLoader("rightsizer.report", "templates"),  # base, style, macros
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["data_uri"] = data_uri
    return environment


def _bars(
    rows: list[SizeRow], values: list[float], chosen: int | None, ylabel: str, fmt: str
) -> bytes:
    fig, [ax] = style.figure(height_in=2.8)
    labels = [str(row.size) for row in rows]
    colours = [style.P95 if i == chosen else style.RPS for i in range(len(rows))]
    bars = ax.bar(labels, values, color=colours)
    ax.bar_label(bars, labels=[format(v, fmt) for v in values], fontsize=9, color=style.TEXT)
    ax.margins(y=0.15)  # room for the labels above the bars
    ax.set_xlabel("task size (vCPU/MiB)")
    ax.set_ylabel(ylabel)
    return style.png(fig)


def size_charts(document: SizesDocument) -> tuple[Chart, ...]:
    """Users per task, and dollars per 1,000 users per hour, by size (the chosen one marked)."""
    measured = [r for r in document.rows if r.measured.users_per_task is not None]
    priced = [r for r in document.rows if r.cost is not None]
    charts = []
    if measured:
        chosen = next((i for i, r in enumerate(measured) if r.size == document.recommended), None)
        users = [float(r.measured.users_per_task or 0) for r in measured]
        charts.append(
            Chart(
                "users-per-task",
                "Users per task at the SLO",
                "Measured by the limit search at each size; the recommended size in orange.",
                _bars(measured, users, chosen, "users per task", ".0f"),
            )
        )
    if priced:
        chosen = next((i for i, r in enumerate(priced) if r.size == document.recommended), None)
        dollars = [r.cost.per_1000_users_hour for r in priced if r.cost is not None]
        charts.append(
            Chart(
                "dollars-per-1000-users",
                "Dollars per 1,000 users per hour",
                f"A task-hour's price over the users a task carries with {document.headroom:.0%} "
                "headroom; lower is cheaper.",
                _bars(priced, dollars, chosen, "$ per 1,000 users per hour", ".4f"),
            )
        )
    return tuple(charts)


def render_sizes_page(document: SizesDocument) -> str:
    rows = [
        {
            "size": str(row.size),
            "chosen": row.size == document.recommended,
            "cells": size_cells(row, row.size == document.recommended),
            "limiter": f"{row.limiter.value}: {row.limiter_evidence}",
        }
        for row in document.rows
    ]
    prices = document.prices
    return (
        _templates()
        .get_template("sizes.html.j2")
        .render(
            title="rightsizer: which task size",
            version=__version__,
            sentence=document.sentence(),
            caveats=document.caveats(),
            target=f"{document.target_users:,} users, {document.headroom:.0%} headroom",
            prices=f"${prices.vcpu_hour:g}/vCPU-hour, ${prices.gb_hour:g}/GB-hour "
            f"({prices.source})",
            platform=document.platform.value,
            columns=COLUMNS,
            rows=rows,
            memory_share=f"{1 - document.memory_headroom:.0%}",
            charts=size_charts(document),
        )
    )


def write_sizes_page(document: SizesDocument, directory: Path) -> Path:
    """Write sizes.html into `directory`; its path."""
    path = directory / PAGE
    write_atomic(path, render_sizes_page(document))
    return path
