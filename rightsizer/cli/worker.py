"""`rightsizer worker`: Locust workers on this machine for a `rightsizer run` on another one.

Parses and calls rightsizer.load.worker_pool; Locust is imported only by the worker processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rightsizer.cli._common import guarded, out
from rightsizer.load.worker_pool import DEFAULT_MASTER_PORT, run_workers
from rightsizer.scenarios import UPLOADER


@guarded
def worker(
    master: Annotated[
        str,
        typer.Option(
            "--master",
            help=f"HOST[:PORT] of the run's master (--master-bind-host/-port there; port "
            f"{DEFAULT_MASTER_PORT} when left out).",
        ),
    ],
    processes: Annotated[
        int, typer.Option("--processes", help="Worker processes to start (one per core).")
    ] = 1,
    locustfile: Annotated[
        Path | None,
        typer.Option(
            "-f",
            "--locustfile",
            help="The same locustfile as the master's (default: the bundled uploader flow).",
        ),
    ] = None,
) -> None:
    """Run Locust workers for a master elsewhere; they end when its run ends."""
    code = run_workers(
        master, processes, locustfile or UPLOADER, lambda line: out.print(line, markup=False)
    )
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add `worker` to the root command."""
    app.command("worker")(worker)
