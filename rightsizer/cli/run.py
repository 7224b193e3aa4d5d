"""`rightsizer run`: step load with Locust, exact per-step statistics, a run directory.

Parses, builds a RunRequest, calls rightsizer.load.execution. Locust is imported only once the
command runs (inside rightsizer.load), never when this module is imported, so `rightsizer
--help` stays free of its process-wide monkey-patching.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

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
from rightsizer.config import FLEET_KEYS, UPLOADER_KEYS, flag_name
from rightsizer.errors import UsageError
from rightsizer.load.execution import RunRequest, execute
from rightsizer.load.plan import RunPlan, given_steps
from rightsizer.load.progress import steps_table
from rightsizer.load.search import SearchLimits
from rightsizer.load.spec import DRAIN_TIMEOUT
from rightsizer.load.ui_steps import ui_plan
from rightsizer.scenarios import UPLOADER
from rightsizer.slo import Slo
from rightsizer.web.options import DEFAULT_HOST, DEFAULT_PORT, WebOptions, redact

FLEET = "Fleet (without --host)"
WORKERS = "Workers"
WEB = "Web UI"


@guarded
@with_settings(*FLEET_KEYS)
def run(
    ctx: typer.Context,
    flags: Flags,
    *,
    locustfile: Annotated[
        Path | None,
        typer.Option(
            "-f", "--locustfile", help="Locustfile to run (default: the bundled uploader flow)."
        ),
    ] = None,
    users: Annotated[
        str | None,
        typer.Option(
            "--users",
            help="Users per step, e.g. 1,3,20; or 'auto': raise users until the SLO breaks or "
            "CPU saturates, then narrow down where.",
        ),
    ] = None,
    step_time: Annotated[
        float | None, typer.Option("--step-time", help="Seconds per step.")
    ] = None,
    spawn_rate: Annotated[
        float | None,
        typer.Option("--spawn-rate", help="Users started per second (default: all at once)."),
    ] = None,
    warmup: Annotated[
        float,
        typer.Option("--warmup", help="Fraction of each step left out of rates and percentiles."),
    ] = 0.2,
    cooldown: Annotated[
        float | None,
        typer.Option(
            "--cooldown",
            help="Seconds without load after the last step, still sampled (default: 15, longer "
            "until every alarm has been evaluated on a period after the load).",
        ),
    ] = None,
    drain_timeout: Annotated[
        float,
        typer.Option(
            "--drain-timeout",
            help="Seconds the requests in flight may take once the load stops; then they are "
            "cut and counted.",
        ),
    ] = DRAIN_TIMEOUT,
    search_from: Annotated[
        int | None,
        typer.Option(
            "--search-from", help="With --users auto: users of the first step (default 10 a task)."
        ),
    ] = None,
    max_steps: Annotated[
        int, typer.Option("--max-steps", help="With --users auto: steps at most.")
    ] = 9,
    slo_p95_ms: SloP95Option = Slo.p95_ms,
    slo_failures: SloFailuresOption = Slo.failure_pct,
    host: Annotated[
        str | None, typer.Option("--host", help="Drive this running target instead of a fleet.")
    ] = None,
    reset: Annotated[
        bool | None,
        typer.Option(
            "--reset/--no-reset",
            help="Reset the uploader's state first (default: on for the bundled scenario "
            "on its own fleet).",
            rich_help_panel=FLEET,
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option("--workers", help="Local Locust worker processes.", rich_help_panel=WORKERS),
    ] = 0,
    expect_workers: Annotated[
        int,
        typer.Option(
            "--expect-workers",
            help="Workers on other machines to wait for (python -m rightsizer.load.worker).",
            rich_help_panel=WORKERS,
        ),
    ] = 0,
    master_bind_host: Annotated[
        str,
        typer.Option(
            "--master-bind-host", help="Address workers connect to.", rich_help_panel=WORKERS
        ),
    ] = "127.0.0.1",
    master_bind_port: Annotated[
        int,
        typer.Option("--master-bind-port", help="Port (0: any).", rich_help_panel=WORKERS),
    ] = 0,
    alarm: Annotated[
        list[Path] | None,
        typer.Option("--alarm", help="Alarm definition file (PutMetricAlarm JSON), repeatable."),
    ] = None,
    report: Annotated[
        bool,
        typer.Option("--report/--no-report", help="Write report.html when the run ends."),
    ] = True,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where run directories are created.")
    ] = Path("runs"),
    label: Annotated[
        str | None, typer.Option("--label", help="Name in the run directory's name.")
    ] = None,
    web: Annotated[
        bool,
        typer.Option(
            "--web",
            help="Locust's web UI with a Tasks & alarms tab; without --users you set the users "
            "there and Stop ends the run.",
            rich_help_panel=WEB,
        ),
    ] = False,
    web_host: Annotated[
        str | None,
        typer.Option(
            "--web-host",
            help=f"Address the UI listens on (default {DEFAULT_HOST}; others need --web-auth).",
            rich_help_panel=WEB,
        ),
    ] = None,
    web_port: Annotated[
        int | None,
        typer.Option("--web-port", help=f"Port (default {DEFAULT_PORT}).", rich_help_panel=WEB),
    ] = None,
    web_auth: Annotated[
        str | None,
        typer.Option(
            "--web-auth",
            help="USER:PASS asked by the UI (login page, or HTTP Basic).",
            envvar="RIGHTSIZER_WEB_AUTH",
            show_envvar=True,
            rich_help_panel=WEB,
        ),
    ] = None,
) -> None:
    """Run step load with Locust and write a run directory with exact per-step statistics."""
    web_options = _web(web, web_host, web_port, web_auth)
    steps = given_steps(users, step_time, web=web_options is not None)
    _no_fleet_flags_with_host(flags, host)
    settings = settings_from(ctx, **flags)
    slo = Slo.checked(slo_p95_ms, slo_failures)
    search = SearchLimits.build(settings.tasks, slo, first_users=search_from, max_steps=max_steps)
    least = RunPlan.cooldown if cooldown is None else cooldown
    if steps is None:  # --web without --users: the user sets the steps
        plan = ui_plan(warmup, spawn_rate, least)
    else:
        plan = RunPlan.build(*steps, warmup, spawn_rate, least, search=search)
    request = RunRequest(
        locustfile=locustfile or UPLOADER,
        plan=plan,
        slo=slo,
        settings=settings,
        host=host,
        reset=reset,
        workers=workers,
        expect_workers=expect_workers,
        master_bind_host=master_bind_host,
        master_bind_port=master_bind_port,
        out=out_dir,
        label=label,
        alarm_files=tuple(alarm or ()),
        config_file=config_file(ctx),
        command=redact(sys.argv),
        cooldown_fixed=cooldown is not None,
        report=report,
        web=web_options,
        drain_timeout=drain_timeout,
    )
    result = execute(request, err)
    if result.steps:
        out.print(steps_table(result.steps))
    out.print(f"run directory: {result.run_dir}", markup=False)
    if result.outcome is not None and not result.stop.completed:
        err.print(f"the run ended early: {result.stop.text}", markup=False)
    if result.stop.exit_code:
        raise typer.Exit(result.stop.exit_code)


def _no_fleet_flags_with_host(flags: Flags, host: str | None) -> None:
    """UsageError naming the first fleet flag (not one of the uploader's own) given with
    --host: a target given by URL runs no fleet of ours."""
    fleet_only = [k for k in FLEET_KEYS if k not in UPLOADER_KEYS and flags[k] is not None]
    if host is not None and fleet_only:
        raise UsageError(
            f"{flag_name(fleet_only[0])}: fleet options do not apply with --host; drop one"
        )


def _web(web: bool, host: str | None, port: int | None, auth: str | None) -> WebOptions | None:
    """The checked web UI options, or None without --web (a password from the environment
    alone is no reason to serve)."""
    if not web:
        for flag, value in (("--web-host", host), ("--web-port", port)):
            if value is not None:
                raise UsageError(f"{flag}: only with --web; add --web or drop {flag}")
        return None
    return WebOptions.build(
        DEFAULT_HOST if host is None else host, DEFAULT_PORT if port is None else port, auth
    )


def register(app: typer.Typer) -> None:
    """Add `run` to the root command."""
    app.command("run")(run)
