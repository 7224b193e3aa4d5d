"""The `rightsizer` command line: parse, build settings, call the library. Nothing more.

Each command group lives in its own module and registers itself on `app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rightsizer import __version__
from rightsizer.cli import alarm, uploader
from rightsizer.cli import demo as demo_command
from rightsizer.cli import fleet as fleet_commands
from rightsizer.cli import report as report_commands
from rightsizer.cli import run as run_command
from rightsizer.cli import size as size_command
from rightsizer.cli import worker as worker_command
from rightsizer.cli._common import CliState, out

app = typer.Typer(
    name="rightsizer",
    help=(
        "Measure how far your smallest container task goes, where its CPU alarm should sit, "
        "and how many tasks you need. Settings come from flags, RIGHTSIZER_* variables and "
        "rightsizer.toml, in that order."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        out.print(f"rightsizer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Settings file (default: ./rightsizer.toml, or $RIGHTSIZER_CONFIG)."
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    ctx.obj = CliState(config_file=config)


demo_command.register(app)
uploader.register(app)
alarm.register(app)
fleet_commands.register(app)
run_command.register(app)
report_commands.register(app)
size_command.register(app)
worker_command.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
