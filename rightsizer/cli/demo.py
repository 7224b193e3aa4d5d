"""`rightsizer demo [--quick]`: the seed's experiment end to end, then the measured answer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rightsizer.analysis.threshold import GROWTH_PCT, REACTION_S
from rightsizer.cli._common import (
    SloFailuresOption,
    SloP95Option,
    config_file,
    err,
    guarded,
    out,
    settings_from,
)
from rightsizer.cli.settings_options import Flags, with_settings
from rightsizer.config import FLEET_KEYS
from rightsizer.errors import EXIT_INTERRUPTED, UsageError
from rightsizer.slo import Slo

# The demo chooses its own task counts (1, then --tasks) and sizes (the settings' cpu, memory).
DEMO_KEYS = tuple(key for key in FLEET_KEYS if key != "tasks")


@guarded
@with_settings(*DEMO_KEYS)
def demo(
    ctx: typer.Context,
    flags: Flags,
    *,
    quick: Annotated[
        bool, typer.Option("--quick", help="Shorter steps (about 2 minutes); coarser answers.")
    ] = False,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where the demo's directory is created.")
    ] = Path("runs"),
    target_users: Annotated[
        int, typer.Option("--target-users", help="Users to size the fleet for.")
    ] = 2000,
    headroom: Annotated[
        float, typer.Option("--headroom", help="Share of each task kept free when sizing.")
    ] = 0.3,
    tasks: Annotated[
        int, typer.Option("--tasks", help="Tasks of the second fleet (the first has one).")
    ] = 4,
    reaction_time: Annotated[
        float,
        typer.Option(
            "--reaction-time",
            help="Seconds from the load crossing the alarm to a new task serving: alarm period "
            "x datapoints (60 x 1) + task start and health checks (120).",
        ),
    ] = REACTION_S,
    growth: Annotated[
        float,
        typer.Option("--growth", help="How fast the load may grow, % of a task's limit a minute."),
    ] = GROWTH_PCT,
    slo_p95_ms: SloP95Option = Slo.p95_ms,
    slo_failures: SloFailuresOption = Slo.failure_pct,
    faults: Annotated[
        bool,
        typer.Option(
            "--faults",
            help="A third phase: the second fleet at 60% of its limit, a task killed and the "
            "database locked mid-load; its report and faults.json show what users and alarms saw.",
        ),
    ] = False,
) -> None:
    """Run the seed's experiment unattended (1 task, then 4) and print the measured answer.

    Finds how far one 0.25-vCPU task goes, then four; replays the seed's CPU alarm at other thresholds; prints users per task, the knee, the alarm threshold to use, the tasks needed for --target-users and how 1 -> 4 tasks scales. Runs on the embedded default (SQLite, a local data directory, HAProxy, cgroup caps); everything lands under --out.
    """  # noqa: E501 (one line: the help keeps a docstring's line breaks)
    from rightsizer.demo.experiment import run_experiment
    from rightsizer.demo.plan import DemoPlan
    from rightsizer.report.terminal import answer_table

    if not 1 <= target_users <= 10_000_000:
        raise UsageError(f"--target-users: {target_users}; give 1 or more users")
    if not 0 <= headroom < 1:
        raise UsageError(f"--headroom: {headroom:g}; give a share from 0 to below 1, e.g. 0.3")
    if not 2 <= tasks <= 64:
        raise UsageError(f"--tasks: {tasks}; give 2 to 64 tasks for the second fleet")
    if not 0 < reaction_time <= 3600:
        raise UsageError(f"--reaction-time: {reaction_time:g}; give seconds, e.g. 180")
    if not 0 < growth <= 100:
        raise UsageError(f"--growth: {growth:g}; give % of the limit a minute, e.g. 10")
    settings = settings_from(ctx, **flags)  # checked here, once; each phase resolves the same
    plan = DemoPlan(
        out=out_dir,
        quick=quick,
        slo=Slo.checked(slo_p95_ms, slo_failures),
        target_users=target_users,
        headroom=headroom,
        task_counts=(1, tasks),
        reaction_s=reaction_time,
        growth_pct=growth,
        cpu=settings.cpu,
        memory=settings.memory,
        flags=tuple((key, value) for key, value in flags.items() if value is not None),
        faults=faults,
    )
    result = run_experiment(plan, err, config_file(ctx))
    if result.conclusion is not None:
        out.print(answer_table(result.conclusion.answer))
        for note in result.conclusion.answer.notes:
            out.print(f"note: {note}", markup=False)
        for report in result.conclusion.reports:
            out.print(f"report: {report}", markup=False)
        if result.conclusion.comparison is not None:
            out.print(f"comparison: {result.conclusion.comparison}", markup=False)
    out.print(f"demo directory: {result.directory} ({result.wall_seconds:.0f} s)", markup=False)
    if result.interrupted or result.conclusion is None:
        raise typer.Exit(EXIT_INTERRUPTED if result.interrupted else 1)


def register(app: typer.Typer) -> None:
    """Add `demo` to the root command."""
    app.command("demo")(demo)
