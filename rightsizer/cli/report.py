"""`rightsizer report RUN...` and `rightsizer compare RUN_A RUN_B`: parse, call
rightsizer.report.html, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from rightsizer.cli._common import err, guarded, out
from rightsizer.errors import UsageError
from rightsizer.rundir import COMPARE

# The report stack (matplotlib, scipy) is imported inside the commands: every other command,
# and every capped task started as `rightsizer serve`, would otherwise pay for it at start-up.

HTML_SUFFIXES = (".html", ".htm")


def register(app: typer.Typer) -> None:
    """Add `report` and `compare` to the root command."""
    app.command("report")(report_command)
    app.command("compare")(compare_command)


@guarded
def report_command(
    runs: Annotated[list[Path], typer.Argument(help="Run directories (each with manifest.json).")],
) -> None:
    """Rebuild report.html and charts/*.png of each run from what it recorded."""
    from rightsizer.report.html import write_report

    for run in runs:
        written = write_report(run)
        out.print(f"{written.report} ({len(written.charts)} charts)", markup=False)
        for note in written.missing:
            err.print(f"  note: {note}", markup=False)


@guarded
def compare_command(
    run_a: Annotated[Path, typer.Argument(help="The baseline run (A).")],
    run_b: Annotated[Path, typer.Argument(help="The run compared with it (B).")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help=f"Where to write the page (default: RUN_B/{COMPARE})."),
    ] = None,
) -> None:
    """Print step-by-step differences with bootstrap intervals (and per task, when the task
    counts differ) and write compare.html."""
    from rightsizer.analysis.recorded_run import load_run
    from rightsizer.report.html import left_out, per_task_rows, write_comparison
    from rightsizer.report.terminal import comparison_table

    runs = (load_run(run_a), load_run(run_b))
    target, comparison = write_comparison(run_a, run_b, _html_target(out_file), runs=runs)
    if comparison.steps:
        out.print(comparison_table(comparison))
    rows = per_task_rows(comparison)
    if rows:
        out.print(_per_task_table(rows, comparison.tasks_a, comparison.tasks_b))
    for reason in left_out(*runs, comparison).values():
        err.print(f"note: {reason}", markup=False)
    out.print(f"wrote {target}", markup=False)


def _per_task_table(rows: list[dict[str, Any]], tasks_a: int | None, tasks_b: int | None) -> Table:
    """The per-task rows of the comparison as a terminal table."""
    table = Table(title=f"per task: A with {tasks_a}, B with {tasks_b}")
    columns = (
        ("users", "users"),
        ("A users/task", "users_a"),
        ("B users/task", "users_b"),
        ("A RPS/task", "rps_a"),
        ("B RPS/task", "rps_b"),
        ("B interval", "rps_b_ci"),
        ("B / A", "rps_ratio"),
        ("A CPU/task", "cpu_a"),
        ("B CPU/task", "cpu_b"),
    )
    for header, _ in columns:
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(*(escape(str(row[key])) for _, key in columns))
    return table


def _html_target(path: Path | None) -> Path | None:
    """An existing directory gets compare.html inside; anything else must end in .html."""
    if path is None:
        return None
    if path.is_dir():
        return path / COMPARE
    if path.suffix.lower() not in HTML_SUFFIXES:
        raise UsageError(f"--out: {path} is not an .html file; give a path ending in .html")
    return path
