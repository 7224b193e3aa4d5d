"""`rightsizer up`, `down` and `status`: parse, build settings and a spec, call the fleet."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from rightsizer.cli._common import config_file, err, guarded, out, settings_from
from rightsizer.cli.settings_options import Flags, with_settings
from rightsizer.config import FLEET_KEYS, Settings, env_name, flag_name
from rightsizer.errors import RightsizerError, UnavailableError
from rightsizer.fleet.control_server import fetch_status
from rightsizer.fleet.spec import FleetSpec
from rightsizer.fleet.state import STATE_FILE, read_state
from rightsizer.fleet.status import FleetStatus
from rightsizer.fleet.supervisor import RunOptions, detach, down, run_foreground


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("down")(down_command)
    app.command("status")(status_command)


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logger = logging.getLogger("rightsizer")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def _describe(document: dict[str, Any]) -> str:
    tasks = len(document["tasks"])
    caps = f"cgroup v{document['cgroup_version']} caps" if document["capped"] else "UNCAPPED"
    lb = f"HAProxy {document['haproxy']}" if document["haproxy"] else "no load balancer"
    size = f"{document['cpu']:g} vCPU / {document['memory']} MiB"
    return f"{document['url']}  ({tasks} task{'s' * (tasks != 1)}, {size} each, {caps}, {lb})"


def _child_env(settings: Settings) -> dict[str, str]:
    """The detached supervisor's environment: ours, with the resolved database URL."""
    return {**os.environ, env_name("db"): settings.db}


def _child_argv(settings: Settings, metrics_db: Path | None, config: Path | None) -> list[str]:
    """The detached supervisor's arguments: every resolved value, so it cannot resolve others.

    The database URL may hold a password: it goes by the environment (`_child_env`), not on
    `ps`."""
    argv = ["--config", str(config)] if config else []
    argv.append("up")
    for key, value in settings.as_dict().items():
        if value is not None and key != "db":
            argv += [flag_name(key), repr(value) if isinstance(value, float) else str(value)]
    if metrics_db:
        argv += ["--metrics-db", str(metrics_db.resolve())]
    return argv


@guarded
@with_settings(*FLEET_KEYS)
def up(
    ctx: typer.Context,
    flags: Flags,
    *,
    detach_: Annotated[
        bool, typer.Option("--detach", help="Run in the background; stop with `down`.")
    ] = False,
    metrics_db: Annotated[
        Path | None, typer.Option(help="Record every sample into this metric store (SQLite).")
    ] = None,
    state_file: Annotated[Path | None, typer.Option(hidden=True)] = None,
    workdir: Annotated[Path | None, typer.Option(hidden=True)] = None,
) -> None:
    """Start N capped tasks behind HAProxy and print the URL; Ctrl-C stops everything."""
    settings = settings_from(ctx, **flags)
    spec = FleetSpec.from_settings(settings)
    _log_to_stderr()
    if detach_:
        argv = _child_argv(settings, metrics_db, config_file(ctx))
        document = detach(argv, settings.state_dir, env=_child_env(settings))
        for warning in document.get("warnings", []):
            err.print(f"warning: {warning}", markup=False)
        out.print(_describe(document), markup=False)
        out.print(f"supervisor pid {document['pid']}; stop it with `rightsizer down`")
        return
    options = RunOptions(spec, settings.state_dir, state_file, metrics_db, workdir)

    def ready(document: dict[str, Any]) -> None:
        out.print(_describe(document), markup=False)
        out.print("Ctrl-C to stop")

    raise typer.Exit(run_foreground(options, ready))


@guarded
@with_settings("state_dir", "cgroup_root")
def down_command(ctx: typer.Context, flags: Flags) -> None:
    """Stop the fleet started with `up --detach` (or a foreground one from another shell)."""
    settings = settings_from(ctx, **flags)
    report = down(settings.state_dir, settings.cgroup_root)
    if report.pid is None:
        out.print(f"no fleet is up for {settings.state_dir}")
        return
    how = "killed (did not stop in time)" if report.killed else "stopped"
    parts = f"{report.tasks} task(s)" + (" and HAProxy" if report.haproxy else "")
    out.print(f"fleet {how}: supervisor {report.pid}, {parts}, in {report.seconds:.1f}s")
    if report.leftovers:
        raise RightsizerError("left behind: " + ", ".join(report.leftovers))
    out.print("nothing left behind (no task, HAProxy or cgroup)")
    if report.workdir:
        out.print(f"logs: {report.workdir} (removed by the next `rightsizer up`)", markup=False)


@guarded
@with_settings("state_dir")
def status_command(
    ctx: typer.Context,
    flags: Flags,
    *,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status JSON.")] = False,
) -> None:
    """URL, healthy hosts, and each task's CPU and memory over the last seconds."""
    settings = settings_from(ctx, **flags)
    document = read_state(settings.state_dir / STATE_FILE)
    control = document.get("control_url") if document else None
    if not isinstance(control, str):
        raise UnavailableError(
            f"no fleet is up for {settings.state_dir}; start one with `rightsizer up --detach`"
        )
    try:
        status = FleetStatus.from_json(fetch_status(control, timeout=10))
    except ValueError:
        raise UnavailableError(f"the fleet's supervisor at {control} sent no task list") from None
    if as_json:
        out.print(json.dumps(status.to_json(), indent=2), markup=False, soft_wrap=True)
        return
    _print_table(status)


def _print_table(status: FleetStatus) -> None:
    """The status as a table; a field the supervisor did not send shows as "-"."""
    out.print(f"{status.url}  healthy hosts: {status.healthy_hosts}", markup=False)
    table = Table("task", "pid", "port", "healthy", "CPU %", "memory %", "throttled")
    for task in status.tasks:
        table.add_row(
            str(task.id),
            _text(task.pid),
            _text(task.port),
            "yes" if task.healthy else "NO",
            _pct(task.cpu_utilization),
            _pct(task.memory_utilization),
            _text(task.throttled_periods),
        )
    out.print(table)
    for stopped in status.stopped_tasks[-5:]:
        err.print(f"task {stopped.id} stopped: {stopped.reason}", markup=False)


def _text(value: int | None) -> str:
    return "-" if value is None else str(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
