"""`rightsizer serve`, `rightsizer reset` and `rightsizer verify`: the uploader's commands."""

from __future__ import annotations

import json
from typing import Annotated

import click
import typer

from rightsizer.cli._common import guarded, out, settings_from
from rightsizer.cli.settings_options import Flags, with_settings
from rightsizer.config import UPLOADER_KEYS
from rightsizer.errors import RightsizerError
from rightsizer.uploader import reset as resetting
from rightsizer.uploader import server
from rightsizer.uploader.files import DirState
from rightsizer.uploader.repair import RepairResult
from rightsizer.uploader.repair import repair as repair_store
from rightsizer.uploader.verify import VerifyReport
from rightsizer.uploader.verify import verify as verify_store

# The settings each command reads (their flags come from rightsizer.config's definition).
DATA_KEYS = ("state_dir", "db", "data_dir")


@guarded
@with_settings(*UPLOADER_KEYS, "port")
def serve(
    ctx: typer.Context,
    flags: Flags,
    *,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Processes sharing the port, as gunicorn's workers (one uses one core at most).",
        ),
    ] = 1,
) -> None:
    """Serve the reference uploader in the foreground until Ctrl-C or SIGTERM."""
    settings = settings_from(ctx, **flags)
    code = server.serve(settings, host=host, port=settings.port, workers=workers)
    if code:
        raise typer.Exit(code)


@guarded
@with_settings(*DATA_KEYS)
def reset(
    ctx: typer.Context,
    flags: Flags,
    *,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; change nothing.")
    ] = False,
) -> None:
    """Empty the uploader's tables and delete its stored files (only its own)."""
    settings = settings_from(ctx, **flags)
    plan = resetting.plan_reset(settings)
    _show_plan(plan)
    if dry_run:
        out.print("dry run: nothing was changed")
        return
    if plan.is_clean and plan.dir_state is DirState.OURS:
        out.print("already in the initial state")
        return
    if not (yes or plan.is_clean or _confirmed("Delete these files and rows?")):
        raise RightsizerError(
            "reset not confirmed; nothing was changed (pass --yes to skip the question)"
        )
    result = resetting.reset(settings)
    rows = ", ".join(f"{name} {count}" for name, count in result.deleted_rows.items())
    out.print(f"deleted {len(result.deleted_files)} files; emptied tables ({rows})", markup=False)


@guarded
@with_settings(*DATA_KEYS)
def verify(
    ctx: typer.Context,
    flags: Flags,
    *,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="First settle what a crash left: delete stale partial uploads, quarantine "
            "orphan files as *.orphan (only unlocked files last written over an hour ago).",
        ),
    ] = False,
) -> None:
    """Check rows against stored files; exit 0 when consistent, 1 when not."""
    settings = settings_from(ctx, **flags)
    repaired = repair_store(settings) if repair else None
    report = verify_store(settings)
    if as_json:
        document = report.as_dict()
        if repaired is not None:
            document["repaired"] = repaired.as_dict()
        typer.echo(json.dumps(document))
    else:
        if repaired is not None:
            _show_repair(repaired)
        _show_report(report)
    raise typer.Exit(0 if report.consistent else 1)


def _show_repair(result: RepairResult) -> None:
    out.print(
        f"repair: removed {len(result.removed_partials)} stale partial uploads, quarantined "
        f"{len(result.quarantined)} orphan files, left {len(result.left)} (in use or recent)",
        markup=False,
    )
    for name in result.quarantined:
        out.print(f"  quarantined: {name} -> {name.removesuffix('.upload')}.orphan", markup=False)
    for name in result.left:
        out.print(f"  left for later: {name}", markup=False)


def _show_report(report: VerifyReport) -> None:
    verdict = "consistent" if report.consistent else "NOT consistent"
    out.print(f"{report.rows} rows, {report.files} files: {verdict}", markup=False)
    for name in report.missing_files:
        out.print(f"  missing file: {name}", markup=False)
    for name in report.orphan_files:
        out.print(f"  orphan file (no row): {name}", markup=False)
    for m in report.mismatched:
        out.print(
            f"  changed file: {m.stored_name} (row {m.id}: size {m.expected_size} -> "
            f"{m.actual_size}, sha256 {m.expected_sha256[:12]} -> {m.actual_sha256[:12]})",
            markup=False,
        )
    for name in report.stale_partials:
        out.print(f"  stale partial upload (a crash left it): {name}", markup=False)
    if report.stale_partials or report.orphan_files:
        out.print("  `rightsizer verify --repair` settles these", markup=False)
    for name in report.quarantined_files:
        out.print(f"  quarantined earlier (no row): {name}", markup=False)


def _show_plan(plan: resetting.ResetPlan) -> None:
    rows = ", ".join(f"{name} {count}" for name, count in plan.rows.items())
    action = {
        DirState.MISSING: "will be created and marked",
        DirState.EMPTY: "will be marked",
        DirState.OURS: f"{len(plan.files)} files ({plan.file_bytes} bytes) to delete",
    }.get(plan.dir_state, "")
    out.print(f"data dir {plan.data_dir}: {action}", markup=False)
    out.print(f"database {plan.db}: rows to delete: {rows}", markup=False)
    if plan.left_alone:
        out.print(f"left alone (not rightsizer's): {len(plan.left_alone)} entries", markup=False)


def _confirmed(question: str) -> bool:
    try:
        return typer.confirm(question, default=False)
    except click.exceptions.Abort:
        return False


def register(app: typer.Typer) -> None:
    """Add the uploader's commands to the root command."""
    app.command("serve")(serve)
    app.command("reset")(reset)
    app.command("verify")(verify)
