"""`rightsizer run`: step load with Locust, exact per-step statistics, a run directory.

Parses, builds a RunRequest, calls rightsizer.load.execution. Locust is imported only once the
command runs (inside rightsizer.load), never when this module is imported, so `rightsizer
--help` stays free of its process-wide monkey-patching.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
from rightsizer.cli.aws_options import AWS, EndpointOption, RegionOption
from rightsizer.cli.settings_options import Flags, with_settings
from rightsizer.config import FLEET_KEYS, UPLOADER_KEYS, flag_name
from rightsizer.errors import EXIT_INTERRUPTED, UsageError
from rightsizer.fault.fault import run_faults
from rightsizer.load.execution import RunRequest, execute
from rightsizer.load.plan import RunPlan, given_rates, given_steps
from rightsizer.load.progress import arrival_table, steps_table
from rightsizer.load.search import SearchLimits
from rightsizer.load.spec import DRAIN_TIMEOUT
from rightsizer.load.ui_steps import ui_plan
from rightsizer.metrics.prometheus_api import PrometheusApi
from rightsizer.metrics.prometheus_source import PodSelector, PrometheusSource
from rightsizer.scenarios import UPLOADER
from rightsizer.slo import Slo
from rightsizer.web.options import DEFAULT_HOST, DEFAULT_PORT, WebOptions, redact

if TYPE_CHECKING:  # boto3 is imported only when --ecs is given
    from rightsizer.aws.cloudwatch_metrics import CloudWatchSource
    from rightsizer.aws.connection import AwsConnection
    from rightsizer.load.step_stats import StepStats

FLEET = "Fleet (without --host)"
WORKERS = "Workers"
WEB = "Web UI"
KUBERNETES = "Kubernetes (with --host)"


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
    arrival_rate: Annotated[
        str | None,
        typer.Option(
            "--arrival-rate",
            help="Instead of --users: user iterations started per second per step, e.g. "
            "50,100,200, whatever the service does (an open model; latency from the intended "
            "start); or 'auto': raise the rate until the p95 from the intended start breaks "
            "the SLO, then narrow down where.",
        ),
    ] = None,
    arrival_users: Annotated[
        int | None,
        typer.Option(
            "--arrival-users",
            help="With --arrival-rate: users that carry each step's rate (default: 2 s of the "
            "rate, at least 4); when all are busy, starts are late or dropped.",
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
            "--search-from",
            help="With --users auto: users of the first step (default 10 a task); with "
            "--arrival-rate auto: its first rate (iterations/s).",
        ),
    ] = None,
    max_steps: Annotated[
        int,
        typer.Option(
            "--max-steps", help="With --users auto or --arrival-rate auto: steps at most."
        ),
    ] = 9,
    slo_p95_ms: SloP95Option = Slo.p95_ms,
    slo_failures: SloFailuresOption = Slo.failure_pct,
    host: Annotated[
        str | None, typer.Option("--host", help="Drive this running target instead of a fleet.")
    ] = None,
    ecs: Annotated[
        str | None,
        typer.Option(
            "--ecs",
            help="With --host: CLUSTER/SERVICE whose CloudWatch metrics (AWS/ECS CPU and "
            "memory) the run records.",
            rich_help_panel=AWS,
        ),
    ] = None,
    alb: Annotated[
        str | None,
        typer.Option(
            "--alb",
            help="With --ecs: app/LB/ID/targetgroup/TG/ID, to record AWS/ApplicationELB metrics.",
            rich_help_panel=AWS,
        ),
    ] = None,
    cloudwatch_period: Annotated[
        int,
        typer.Option(
            "--cloudwatch-period",
            help="With --ecs: seconds per datapoint (60; 1, 5, 10, 20 or 30: high resolution).",
            rich_help_panel=AWS,
        ),
    ] = 60,
    cloudwatch_wait: Annotated[
        float,
        typer.Option(
            "--cloudwatch-wait",
            help="With --ecs: seconds to wait for CloudWatch to publish the last period.",
            rich_help_panel=AWS,
        ),
    ] = 300.0,
    reset_cmd: Annotated[
        str | None,
        typer.Option(
            "--reset-cmd",
            help="A shell command run before each run's load (your own cleanup); its output "
            "goes to the run directory, and a non-zero exit stops the run.",
        ),
    ] = None,
    deployed_alarm: Annotated[
        str | None,
        typer.Option(
            "--deployed-alarm",
            help="With --ecs: this CloudWatch alarm's state is polled during the run and its "
            "history compared with rightsizer's evaluation (cloudwatch_alarm.json).",
            rich_help_panel=AWS,
        ),
    ] = None,
    ecs_tasks: Annotated[
        str | None,
        typer.Option(
            "--ecs-tasks",
            help="With --ecs: run the steps once per desired count, e.g. 1,4 (UpdateService; "
            "the original count is restored at the end).",
            rich_help_panel=AWS,
        ),
    ] = None,
    prometheus: Annotated[
        str | None,
        typer.Option(
            "--prometheus",
            help="With --host: a Prometheus URL to read the pods' CPU and memory from "
            "(cAdvisor, limits from kube-state-metrics).",
            rich_help_panel=KUBERNETES,
        ),
    ] = None,
    pod_selector: Annotated[
        str | None,
        typer.Option(
            "--pod-selector",
            help='With --prometheus: label matchers of the pods, e.g. namespace="shop",'
            'pod=~"uploader-.*".',
            rich_help_panel=KUBERNETES,
        ),
    ] = None,
    prometheus_step: Annotated[
        int,
        typer.Option(
            "--prometheus-step",
            help="With --prometheus: seconds between points, at least the scrape interval.",
            rich_help_panel=KUBERNETES,
        ),
    ] = 15,
    region: RegionOption = None,
    endpoint_url: EndpointOption = None,
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
            help="Workers on other machines to wait for (`rightsizer worker --master ...`).",
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
    allow_remote_workers: Annotated[
        bool,
        typer.Option(
            "--allow-remote-workers",
            help="Let the master listen beyond this machine (Locust's worker protocol has no "
            "authentication: a trusted network only).",
            rich_help_panel=WORKERS,
        ),
    ] = False,
    alarm: Annotated[
        list[Path] | None,
        typer.Option("--alarm", help="Alarm definition file (PutMetricAlarm JSON), repeatable."),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="KIND@START[+DURATION][:TASK], repeatable: kill-task, freeze-task, lb-drain, "
            "db-outage, cpu-steal (e.g. kill-task@20s, freeze-task@30s+5s:2, db-outage@40s+10s); "
            "faults.json records what they did.",
        ),
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
    rates = given_rates(arrival_rate, users, step_time, spawn_rate, arrival_users)
    steps = None if rates else given_steps(users, step_time, web=web_options is not None)
    _no_fleet_flags_with_host(flags, host)
    settings = settings_from(ctx, **flags)
    slo = Slo.checked(slo_p95_ms, slo_failures)
    search = SearchLimits.build(settings.tasks, slo, first_users=search_from, max_steps=max_steps)
    least = RunPlan.cooldown if cooldown is None else cooldown
    if rates is not None:
        plan = RunPlan.open_model(*rates, warmup, least, arrival_users, search=search)
    elif steps is None:  # --web without --users: the user sets the steps
        plan = ui_plan(warmup, spawn_rate, least)
    else:
        plan = RunPlan.build(*steps, warmup, spawn_rate, least, search=search)
    for flag, value in (("--deployed-alarm", deployed_alarm), ("--ecs-tasks", ecs_tasks)):
        if value is not None and ecs is None:
            raise UsageError(f"{flag}: only with --ecs CLUSTER/SERVICE; add --ecs")
    cloudwatch, aws = _cloudwatch(
        ecs,
        alb,
        period=cloudwatch_period,
        wait=cloudwatch_wait,
        region=region,
        endpoint=endpoint_url,
    )
    request = RunRequest(
        cloudwatch=cloudwatch,
        aws=aws,
        reset_cmd=reset_cmd,
        deployed_alarm=deployed_alarm,
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
        allow_remote_workers=allow_remote_workers,
        out=out_dir,
        label=label,
        alarm_files=tuple(alarm or ()),
        config_file=config_file(ctx),
        command=redact(sys.argv),
        cooldown_fixed=cooldown is not None,
        report=report,
        web=web_options,
        drain_timeout=drain_timeout,
        faults=run_faults(fault or [], config_file(ctx), os.environ, Path.cwd()),
        prometheus=_prometheus(prometheus, pod_selector, prometheus_step, host),
    )
    if ecs_tasks is None:
        results = [execute(request, err)]
    else:
        from rightsizer.load.scaled_runs import execute_scaled, parse_counts

        try:
            results = execute_scaled(request, parse_counts(ecs_tasks), err)
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None
    for result in results:
        if result.steps:
            _print_steps(result.steps)
        out.print(f"run directory: {result.run_dir}", markup=False)
        if result.outcome is not None and not result.stop.completed:
            err.print(f"the run ended early: {result.stop.text}", markup=False)
        if result.stop.exit_code:
            raise typer.Exit(result.stop.exit_code)


def _print_steps(steps: list[StepStats]) -> None:
    """The steps table, and with --arrival-rate the open model's."""
    out.print(steps_table(steps))
    if (open_model := arrival_table(steps)) is not None:
        out.print(open_model)


def _cloudwatch(
    ecs: str | None,
    alb: str | None,
    *,
    period: int,
    wait: float,
    region: str | None,
    endpoint: str | None,
) -> tuple[CloudWatchSource | None, AwsConnection | None]:
    """The --ecs source and its AWS connection, checked; (None, None) without --ecs."""
    if ecs is None:
        if alb is not None:
            raise UsageError("--alb: only with --ecs CLUSTER/SERVICE; add --ecs")
        return None, None
    from rightsizer.aws.cloudwatch_metrics import (
        CloudWatchSource,
        EcsService,
        TargetGroup,
    )
    from rightsizer.aws.connection import AwsConnection

    source = CloudWatchSource(
        EcsService.parse(ecs),
        None if alb is None else TargetGroup.parse(alb),
        period=period,
        wait=wait,
    )
    return source, AwsConnection.flags(region, endpoint)  # the run resolves the region


def _prometheus(
    url: str | None, selector: str | None, step: int, host: str | None
) -> PrometheusSource | None:
    """The --prometheus source, checked; None without --prometheus."""
    if url is None:
        if selector is not None:
            raise UsageError("--pod-selector: only with --prometheus URL; add --prometheus")
        return None
    if host is None:
        raise UsageError("--prometheus: needs --host URL, the service's own address")
    if selector is None:
        raise UsageError('--prometheus: needs --pod-selector, e.g. namespace="shop"')
    return PrometheusSource(PrometheusApi.flag(url), PodSelector.parse(selector), step)


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
