"""`rightsizer alarm evaluate|replay|export|pull|push`: parse, call rightsizer.alarms (and
rightsizer.aws for the deployed alarm), print."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.export import FORMATS, export
from rightsizer.alarms.offline import evaluate_files
from rightsizer.alarms.replay import (
    ROOM,
    ReplayGrid,
    ReplayRow,
    base_alarm,
    read_run,
    recommend,
    replay_facts,
)
from rightsizer.alarms.sources import load_alarms, load_definition_file
from rightsizer.cli._common import config_file, guarded, out
from rightsizer.cli.aws_options import EndpointOption, RegionOption
from rightsizer.errors import AlarmDefinitionError, UsageError
from rightsizer.rundir import RunDir, write_atomic
from rightsizer.slo import Slo

alarm_app = typer.Typer(
    name="alarm",
    help="CloudWatch-semantics alarms: evaluate offline, replay over a run, export, pull and "
    "push the deployed one.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `alarm` group to the root command."""
    app.add_typer(alarm_app, name="alarm")


@alarm_app.command("evaluate")
@guarded
def evaluate_command(
    *,
    alarm: Annotated[Path, typer.Option("--alarm", help="PutMetricAlarm JSON file.")],
    datapoints: Annotated[
        Path, typer.Option("--datapoints", help="CSV with header timestamp,value (UTC ISO 8601).")
    ],
    start: Annotated[
        str | None, typer.Option("--start", help="First boundary (ISO; default: first period).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last boundary (ISO; default: last period end).")
    ] = None,
) -> None:
    """Evaluate ALARM.json over POINTS.csv at every period boundary; print one JSON object."""
    document = evaluate_files(alarm, datapoints, start, end)
    sys.stdout.write(json.dumps(document) + "\n")


@alarm_app.command("replay")
@guarded
def replay_command(
    run: Annotated[Path, typer.Argument(help="A run directory (with manifest.json).")],
    *,
    threshold: Annotated[str, typer.Option("--threshold", help="Thresholds: 20,30,50.")],
    period: Annotated[str, typer.Option("--period", help="Periods in seconds: 10,60.")],
    evaluation_periods: Annotated[
        str, typer.Option("--evaluation-periods", help="N values: 1,3.")
    ] = "1",
    datapoints_to_alarm: Annotated[
        str | None, typer.Option("--datapoints-to-alarm", help="M values (default M = N).")
    ] = None,
    slo_p95_ms: Annotated[
        float | None,
        typer.Option("--slo-p95-ms", help="SLO on p95 (ms); default: the run's own SLO."),
    ] = None,
    slo_failures: Annotated[
        float | None,
        typer.Option("--slo-failures", help="SLO on failures (percent); default: the run's."),
    ] = None,
    room: Annotated[
        float, typer.Option("--room", help="Share of the SLO under which an alarm is false.")
    ] = ROOM,
    metric: Annotated[str, typer.Option("--metric", help="Series name.")] = "CPUUtilization",
    statistic: Annotated[str, typer.Option("--statistic", help="Average, p95, ...")] = "Average",
    dimension: Annotated[
        list[str] | None, typer.Option("--dimension", help="Name=Value (repeatable).")
    ] = None,
    comparison: Annotated[
        str, typer.Option("--comparison", help="ComparisonOperator.")
    ] = "GreaterThanThreshold",
    treat_missing_data: Annotated[
        str, typer.Option("--treat-missing-data", help="missing, notBreaching, breaching, ignore.")
    ] = "missing",
    alarm: Annotated[
        Path | None, typer.Option("--alarm", help="Start from this definition instead.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay alarm settings over a recorded run: when each would have fired, against the SLO."""
    with _as_flags():
        if alarm is not None:
            base = _single(load_definition_file(alarm))
        else:
            dims = _dimensions(dimension) if dimension else None
            base = base_alarm(
                metric,
                statistic,
                dimensions=dims,
                comparison=comparison,
                treat_missing_data=treat_missing_data,
            )
        grid = ReplayGrid(
            base,
            thresholds=tuple(_numbers(threshold, "--threshold", float)),
            periods=tuple(_numbers(period, "--period", int)),
            evaluation_periods=tuple(_numbers(evaluation_periods, "--evaluation-periods", int)),
            datapoints_to_alarm=tuple(
                _numbers(datapoints_to_alarm or "", "--datapoints-to-alarm", int)
            ),
        )
        if not grid.alarms():
            raise UsageError("--datapoints-to-alarm: every M is above every N; no setting to try")
    Slo.check(slo_p95_ms, slo_failures)  # before the run is read: a bad flag costs nothing
    if not 0 < room <= 1:
        raise UsageError(f"--room: must be within 0..1, got {room:g}")
    facts = read_run(RunDir.open(run), grid.base)
    slo = facts.slo.overridden(slo_p95_ms, slo_failures)
    rows = replay_facts(facts, grid.alarms(), slo, room=room)
    best = recommend(rows)
    if as_json:
        document = {
            "slo": slo.as_dict() | {"room": room},
            "rows": [r.to_json() for r in rows],
            "recommended": None if best is None else best.to_json(),
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    out.print(_table(rows, best))
    out.print(
        f"SLO: p95 under {slo.p95_ms:g} ms, failures under {slo.failure_pct:g}%; "
        f"lead counts from the ALARM still on when it broke."
    )
    if best is None:
        out.print("No setting fired at least one period before the SLO broke.")
    else:
        a = best.alarm
        out.print(
            f"Recommended: {a.metric_name} {a.statistic.name} {a.comparison.symbol} "
            f"{a.threshold:g}, period {a.period} s, {a.datapoints_to_alarm} of "
            f"{a.evaluation_periods} (lead {best.lead_time_s:+.0f} s)."
        )


@alarm_app.command("export")
@guarded
def export_command(
    ctx: typer.Context,
    *,
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")],
    alarm: Annotated[
        list[Path] | None, typer.Option("--alarm", help="PutMetricAlarm JSON file (repeatable).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="rightsizer.toml with [[alarm]] tables.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
) -> None:
    """Write alarms as CloudWatch JSON, a CloudFormation template or Prometheus rules."""
    if fmt not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    root_config = config_file(ctx)
    alarms = load_alarms(alarm or [], config or root_config)
    text = export(alarms, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
    own_actions = any(
        not a.startswith("arn:")
        for d in alarms
        for a in (*d.alarm_actions, *d.ok_actions, *d.insufficient_data_actions)
    )
    if own_actions and fmt != "prometheus":
        print(
            "note: rightsizer's own actions (log, webhook, command, stop-run) left out",
            file=sys.stderr,
        )


@alarm_app.command("pull")
@guarded
def pull_command(
    name: Annotated[str, typer.Argument(help="AlarmName of the deployed alarm.")],
    *,
    output: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
    region: RegionOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Write the deployed alarm NAME as put-metric-alarm JSON (DescribeAlarms)."""
    from rightsizer.aws.connection import AwsConnection
    from rightsizer.aws.deployed_alarm import pull

    deployed = pull(AwsConnection.build(region, endpoint_url), name)
    if deployed is None:
        raise UsageError(f"{name}: no such alarm in CloudWatch; check the name and --region")
    text = export([deployed], "cloudwatch")
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)


@alarm_app.command("push")
@guarded
def push_command(
    file: Annotated[Path, typer.Argument(help="PutMetricAlarm JSON file (one alarm).")],
    *,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Deploy with this Threshold instead.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the difference from what is deployed only.")
    ] = False,
    region: RegionOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Deploy the alarm of FILE (PutMetricAlarm); --dry-run prints what would change."""
    from rightsizer.aws.connection import AwsConnection
    from rightsizer.aws.deployed_alarm import differences, pull, push

    wanted = _single(load_definition_file(file))
    if threshold is not None:
        with _as_flags():
            wanted = AlarmDefinition.from_json(wanted.to_json() | {"Threshold": threshold})
    connection = AwsConnection.build(region, endpoint_url)
    if not dry_run:
        push(connection, wanted)
        out.print(f"deployed {wanted.name} ({connection.region})", markup=False)
        return
    deployed = pull(connection, wanted.name)
    changes = differences(deployed, wanted)
    if deployed is None:
        out.print(f"{wanted.name}: not deployed; push would create it with:", markup=False)
    elif not changes:
        out.print(f"{wanted.name}: deployed as in {file}; nothing to change", markup=False)
    for change in changes:
        out.print(f"  {change}", markup=False)


# The replay flags that fill PutMetricAlarm fields, so an error names the flag the user typed.
_FLAG_OF_FIELD = {
    "MetricName": "--metric",
    "Statistic": "--statistic",
    "ExtendedStatistic": "--statistic",
    "Dimensions": "--dimension",
    "ComparisonOperator": "--comparison",
    "TreatMissingData": "--treat-missing-data",
    "Threshold": "--threshold",
    "Period": "--period",
    "EvaluationPeriods": "--evaluation-periods",
    "DatapointsToAlarm": "--datapoints-to-alarm",
}


@contextlib.contextmanager
def _as_flags() -> Iterator[None]:
    """Re-word a field error of a definition built from flags as an error of the flag."""
    try:
        yield
    except AlarmDefinitionError as exc:
        flag = _FLAG_OF_FIELD.get(exc.field.split("[")[0])
        if flag is None:
            raise
        raise UsageError(f"{flag}: {exc.message}") from None


def _single(alarms: list[AlarmDefinition]) -> AlarmDefinition:
    if len(alarms) != 1:
        raise UsageError("--alarm: expected a file with one alarm definition")
    return alarms[0]


def _numbers(text: str, flag: str, kind: type[int] | type[float]) -> list[Any]:
    values = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            value = kind(part)
        except ValueError:
            noun = "whole number" if kind is int else "number"
            raise UsageError(f"{flag}: {part!r} is not a {noun}; write e.g. 20,30,50") from None
        values.append(value)
    if not values and text:
        raise UsageError(f"{flag}: no values; write e.g. 20,30,50")
    return values


def _dimensions(items: list[str]) -> dict[str, str]:
    dims = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--dimension: expected Name=Value, got {item!r}")
        dims[name.strip()] = value.strip()
    return dims


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0f}"


def _table(rows: list[ReplayRow], best: ReplayRow | None) -> Table:
    table = Table(
        title="Alarm replay: seconds from load start; lead > 0: fired before the SLO broke",
        box=box.SIMPLE_HEAD,
    )
    for column in ("alarm", "period", "M/N", "fired", "onset", "SLO broke", "lead",
                   "OK after", "flaps", "false"):  # fmt: skip
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        a = row.alarm
        table.add_row(
            f"{a.comparison.symbol} {a.threshold:g}",
            f"{a.period} s",
            f"{a.datapoints_to_alarm}/{a.evaluation_periods}",
            _seconds(row.first_alarm_s),
            _seconds(row.onset_s),
            _seconds(row.slo_break_s),
            _seconds(row.lead_time_s),
            "never" if row.back_to_ok_s is None else f"{row.back_to_ok_s:.0f} s",
            str(row.flaps),
            str(row.false_alarms),
            style="bold green" if row is best else None,
        )
    return table
