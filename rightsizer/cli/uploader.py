"""`rightsizer serve`, `rightsizer reset` and `rightsizer verify`: the uploader's commands."""

from __future__ import annotations

import json
from typing import Annotated

import click
import typer

from rightsizer.cli._common import guarded, out, settings_from
from rightsizer.errors import RightsizerError
from rightsizer.uploader import reset as resetting
from rightsizer.uploader import server
from rightsizer.uploader.files import DirState
from rightsizer.uploader.verify import verify as verify_store

DbOption = Annotated[
    str | None, typer.Option("--db", help="SQLAlchemy URL of the database ($RIGHTSIZER_DB).")
]
DataDirOption = Annotated[
    str | None,
    typer.Option("--data-dir", help="Where uploads are stored ($RIGHTSIZER_DATA_DIR)."),
]


@guarded
def serve(
    ctx: typer.Context,
    *,
    port: Annotated[int | None, typer.Option("--port", help="Port (0: any free one).")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    db: DbOption = None,
    data_dir: DataDirOption = None,
    max_upload_mb: Annotated[
        float | None, typer.Option("--max-upload-mb", help="Largest accepted upload, MiB.")
    ] = None,
    keepalive: Annotated[
        float | None, typer.Option("--keepalive", help="HTTP keep-alive, seconds.")
    ] = None,
) -> None:
    """Serve the reference uploader in the foreground until Ctrl-C or SIGTERM."""
    settings = settings_from(
        ctx,
        port=port,
        db=db,
        data_dir=data_dir,
        max_upload_mb=max_upload_mb,
        keepalive=keepalive,
    )
    server.serve(settings, host=host, port=settings.port)


@guarded
def reset(
    ctx: typer.Context,
    *,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; change nothing.")
    ] = False,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Empty the uploader's tables and delete its stored files (only its own)."""
    settings = settings_from(ctx, db=db, data_dir=data_dir)
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
def verify(
    ctx: typer.Context,
    *,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Check rows against stored files; exit 0 when consistent, 1 when not."""
    settings = settings_from(ctx, db=db, data_dir=data_dir)
    report = verify_store(settings)
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
    else:
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
    raise typer.Exit(0 if report.consistent else 1)


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
