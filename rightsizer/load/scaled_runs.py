"""`rightsizer run --ecs CLUSTER/SERVICE --ecs-tasks 1,4`: the same steps once per desired
task count of an ECS service, as the seed scaled it, one run directory each.

    results = execute_scaled(request, [1, 4], console)

For each count: UpdateService's desiredCount, then DescribeServices until running = desired
(rightsizer.aws.ecs_service.wait_stable), then the run (rightsizer.load.execution). The
service's original desired count is set back at the end whatever happens: success, an error,
Ctrl-C or SIGTERM (during a run, its own handlers end it written and interrupted; between runs,
a SIGTERM here is turned into the same KeyboardInterrupt as Ctrl-C). `rightsizer compare`
then compares two of the run directories.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator, Sequence
from dataclasses import replace
from types import FrameType

from rich.console import Console
from rich.text import Text

from rightsizer.aws.ecs_service import set_desired, task_counts, wait_stable
from rightsizer.errors import UsageError
from rightsizer.load.execution import RunRequest, RunResult, execute

MAX_TASKS = 1000


def parse_counts(text: str) -> list[int]:
    """`1,4` -> [1, 4]; UsageError naming --ecs-tasks otherwise."""
    counts = []
    for part in (p.strip() for p in text.split(",")):
        if not part.isdigit() or not 1 <= int(part) <= MAX_TASKS:
            raise UsageError(f"--ecs-tasks: {part!r} is not a task count 1..{MAX_TASKS}; e.g. 1,4")
        counts.append(int(part))
    return counts


def execute_scaled(request: RunRequest, counts: Sequence[int], console: Console) -> list[RunResult]:
    """One run of `request` per desired count; see the module docstring."""
    if request.cloudwatch is None or request.aws is None:
        raise UsageError("--ecs-tasks: only with --ecs CLUSTER/SERVICE; add --ecs")
    # Locust's gevent must patch ssl before boto3 imports it (the runs import Locust anyway).
    import locust  # noqa: F401, PLC0415

    connection, service = request.aws.resolved(), request.cloudwatch.ecs
    name = f"{service.cluster}/{service.service}"
    original = task_counts(connection, service).desired

    def note(text: str) -> None:
        console.print(Text(text, style="yellow"))

    results: list[RunResult] = []
    with _sigterm_as_interrupt():
        try:
            for count in counts:
                note(f"{name}: desired count {count} (was {original} before this run)")
                set_desired(connection, service, count)
                wait_stable(connection, service, note=note)
                label = f"{request.label or request.locustfile.stem}-{count}tasks"
                result = execute(replace(request, label=label, ecs_tasks=count), console)
                results.append(result)
                if result.stop.interrupted or result.error:
                    break
                if result.signalled:  # during its CloudWatch wait: no further count
                    raise KeyboardInterrupt
        finally:
            with _signals_held():  # a second Ctrl-C or SIGTERM must not skip the restore
                set_desired(connection, service, original)
            note(f"{name}: desired count restored to {original}")
    return results


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt as Ctrl-C does (runs inside install
    their own handlers and put this one back)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Within the block (one UpdateService call, bounded by the client's retries and timeouts),
    SIGINT and SIGTERM are ignored: the run is ending already."""
    previous = {
        number: signal.signal(number, signal.SIG_IGN) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
