"""`rightsizer size --sizes 0.25/512,0.5/1024,1/2048`: the limit at each size, what each costs
per 1,000 users, and the size to deploy."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

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
from rightsizer.config import FLEET_KEYS, find_config_file, read_config_file
from rightsizer.errors import EXIT_INTERRUPTED, RightsizerError, UsageError
from rightsizer.slo import Slo

if TYPE_CHECKING:
    from rightsizer.sizing.sizes_document import SizesDocument

E = TypeVar("E", bound=Enum)
# Each size sets its own caps, and is measured as one task.
SIZE_KEYS = tuple(key for key in FLEET_KEYS if key not in ("tasks", "cpu", "memory"))


class Emit(Enum):
    ECS = "ecs"
    KUBERNETES = "kubernetes"


@guarded
@with_settings(*SIZE_KEYS)
def size(
    ctx: typer.Context,
    flags: Flags,
    *,
    sizes: Annotated[
        str, typer.Option("--sizes", help="Sizes to measure, vCPU/MiB, e.g. 0.25/512,0.5/1024.")
    ],
    platform: Annotated[
        str,
        typer.Option(
            "--platform", help="fargate (checks Fargate's CPU/memory pairs) or kubernetes (any)."
        ),
    ] = "fargate",
    arch: Annotated[
        str, typer.Option("--arch", help="x86 or arm: which built-in Fargate prices apply.")
    ] = "x86",
    target_users: Annotated[
        int, typer.Option("--target-users", help="Users to size the fleet for.")
    ] = 2000,
    headroom: Annotated[
        float,
        typer.Option("--headroom", help="Share of each task kept free (users and memory)."),
    ] = 0.3,
    price_vcpu_hour: Annotated[
        float | None, typer.Option("--price-vcpu-hour", help="Dollars per vCPU-hour.")
    ] = None,
    price_gb_hour: Annotated[
        float | None, typer.Option("--price-gb-hour", help="Dollars per GB-hour.")
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Shorter steps, fewer of them; coarser answers.")
    ] = False,
    step_time: Annotated[
        float | None, typer.Option("--step-time", help="Seconds per step (default 15; quick 7).")
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option("--max-steps", help="Steps at most a size (default 9; quick 6).")
    ] = None,
    search_from: Annotated[
        int | None, typer.Option("--search-from", help="Users of each search's first step.")
    ] = None,
    locustfile: Annotated[
        Path | None,
        typer.Option("-f", "--locustfile", help="Locustfile (default: the bundled uploader flow)."),
    ] = None,
    emit: Annotated[
        list[str] | None,
        typer.Option("--emit", help="Write settings to deploy: ecs or kubernetes (repeatable)."),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write each size's report.html.")
    ] = True,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where the sweep's directory is created.")
    ] = Path("runs"),
    slo_p95_ms: SloP95Option = Slo.p95_ms,
    slo_failures: SloFailuresOption = Slo.failure_pct,
) -> None:
    """Measure users per task at several task sizes and answer which size costs least.

    Runs the limit search (`run --users auto`) on one task of each size; prints users per task, knee, CPU and memory at the limit, tasks and dollars for --target-users, dollars per 1,000 users per hour, what limits each size, and the cheapest size that meets the SLO with memory headroom. Writes sizes.json (and, with --emit, settings to deploy) under --out.
    """  # noqa: E501 (one line: the help keeps a docstring's line breaks)
    from rightsizer.rundir import write_json
    from rightsizer.sizing.prices import Architecture, resolve_prices
    from rightsizer.sizing.sizes_document import build_sizes
    from rightsizer.sizing.sizes_page import write_sizes_page
    from rightsizer.sizing.sweep import SweepPlan, run_sweep
    from rightsizer.sizing.table import sizes_table
    from rightsizer.sizing.task_size import Platform, parse_sizes

    chosen_platform = _choice(Platform, platform, "--platform")
    architecture = _choice(Architecture, arch, "--arch")
    emits = [_choice(Emit, e, "--emit") for e in emit or ()]
    if not 1 <= target_users <= 10_000_000:
        raise UsageError(f"--target-users: {target_users}; give 1 or more users")
    if not 0 <= headroom < 1:
        raise UsageError(f"--headroom: {headroom:g}; give a share from 0 to below 1, e.g. 0.3")
    parsed = parse_sizes(sizes, chosen_platform)
    path, label = find_config_file(config_file(ctx), os.environ, Path.cwd())
    document = read_config_file(path, label) if path else {}
    prices = resolve_prices(
        architecture,
        vcpu_hour=price_vcpu_hour,
        gb_hour=price_gb_hour,
        document=document,
        label=label,
    )
    settings_from(ctx, **flags)  # checked once, here; each run resolves the same
    plan = SweepPlan(
        sizes=parsed,
        out=out_dir,
        quick=quick,
        slo=Slo.checked(slo_p95_ms, slo_failures),
        step_time=step_time,
        max_steps=max_steps,
        search_from=search_from,
        locustfile=locustfile,
        report=report,
        flags=tuple((key, value) for key, value in flags.items() if value is not None),
    )
    result = run_sweep(plan, err, config_file(ctx))
    if not result.measurements:
        code = result.phases[-1].exit_code if result.phases else 1
        if result.interrupted:
            raise typer.Exit(EXIT_INTERRUPTED)
        raise RightsizerError(
            f"the run at {parsed[0]} ended (exit code {code}) before it measured anything; "
            "its output above says why"
        )
    sized = build_sizes(
        result.measurements,
        prices,
        target_users=target_users,
        headroom=headroom,
        platform=chosen_platform,
    )
    write_json(result.directory / "sizes.json", sized.to_json())
    page = write_sizes_page(sized, result.directory)
    out.print(sized.sentence(), markup=False)
    for caveat in sized.caveats():
        out.print(f"note: {caveat}", markup=False)
    out.print(sizes_table(sized))
    for row in sized.rows:
        out.print(
            f"{row.size}: limited by {row.limiter.value}: {row.limiter_evidence}", markup=False
        )
    for kind in emits:
        for written in _emit(kind, sized, result.directory):
            out.print(f"{kind.value}: {written}", markup=False)
    out.print(f"prices: {prices.source}", markup=False)
    out.print(f"report: {page}", markup=False)
    out.print(f"size directory: {result.directory} ({result.wall_seconds:.0f} s)", markup=False)
    stopped = next((p for p in result.phases if p.exit_code != 0), None)
    if stopped is not None:
        unmeasured = ", ".join(str(s) for s in parsed[len(result.measurements) :]) or "none"
        err.print(
            f"the sweep stopped early (a run ended with exit code {stopped.exit_code}); "
            f"not measured: {unmeasured}",
            markup=False,
        )
        raise typer.Exit(EXIT_INTERRUPTED if result.interrupted else 1)


def _choice(kind: type[E], value: str, flag: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise UsageError(f"{flag}: {value!r}; give one of {allowed}") from None


def _emit(kind: Emit, sized: SizesDocument, directory: Path) -> list[Path]:
    """Write the recommended size's settings for `kind`; the files written."""
    from rightsizer.sizing.deployment import deployment_of
    from rightsizer.sizing.ecs_settings import write_ecs
    from rightsizer.sizing.kubernetes_settings import write_kubernetes

    plan = deployment_of(sized)
    if kind is Emit.ECS:
        return write_ecs(plan, directory)
    return [write_kubernetes(plan, directory)]


def register(app: typer.Typer) -> None:
    """Add `size` to the root command."""
    app.command("size")(size)
