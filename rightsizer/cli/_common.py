"""What every command shares: error handling, the console, and settings from flags."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TextIO, TypeVar

import typer
from rich.console import Console

from rightsizer.config import Settings, load_settings
from rightsizer.errors import RightsizerError

P = ParamSpec("P")
R = TypeVar("R")

# Piped output (CI logs, `| tee`) gets room for the wide tables instead of Rich's 80 columns;
# a terminal, or $COLUMNS, decides for itself.
PIPE_WIDTH = 160


def _width(stream: TextIO) -> int | None:
    return None if stream.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH


out = Console(highlight=False, soft_wrap=True, width=_width(sys.stdout))
err = Console(stderr=True, highlight=False, soft_wrap=True, width=_width(sys.stderr))


@dataclass(frozen=True)
class CliState:
    """What the top-level options give every command."""

    config_file: Path | None = None


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a RightsizerError into its one-line message on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except RightsizerError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def config_file(ctx: typer.Context) -> Path | None:
    """The root command's --config, when given."""
    state = ctx.find_root().obj
    return state.config_file if isinstance(state, CliState) else None


def settings_from(ctx: typer.Context, **flags: Any) -> Settings:
    """Settings from this command's flags (None = not given), env and the config file."""
    return load_settings(flags, config_file=config_file(ctx))


# The --slo-* flags; `Slo.checked` turns them into the SLO, by the one rule every command uses.
SloP95Option = Annotated[
    float, typer.Option("--slo-p95-ms", help="SLO: p95 response time under this (ms).")
]
SloFailuresOption = Annotated[
    float, typer.Option("--slo-failures", help="SLO: failures under this (percent).")
]
