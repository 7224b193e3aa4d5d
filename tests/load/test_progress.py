"""The live line: recent RPS and p95, and what it prints where there is no terminal."""

from __future__ import annotations

import io

from rich.console import Console

from rightsizer.load.progress import Progress, RecentRequests, Snapshot, steps_table
from rightsizer.load.records import RequestRecord
from rightsizer.load.step_stats import ServerSeries, step_stats, step_windows


def test_recent_requests_forget_old_ones() -> None:
    recent = RecentRequests(seconds=10)
    recent.add([RequestRecord(float(t), "/", "GET", float(t), True, 0) for t in range(20)])
    assert recent.rps(now=19.5) == 1.0  # completed at 10..19
    assert recent.p95(now=19.5) == 19.0
    assert recent.rps(now=100) == 0.0
    assert recent.p95(now=100) is None


def snapshot(**changes: object) -> Snapshot:
    base: dict[str, object] = {
        "phase": "step", "step": 1, "steps": 3, "users": 3, "rps": 2.5, "p95_ms": 41.6,
        "requests": 10, "failures": 1, "task_cpu": 23.4, "generator_cpu": 5.0, "remaining": 12,
    }  # fmt: skip
    base.update(changes)
    return Snapshot(**base)  # type: ignore[arg-type]


def test_the_line_names_step_users_rps_p95_failures_and_task_cpu() -> None:
    line = snapshot().line()
    for part in ("step 2/3", "users 3", "RPS 2.5", "p95 42 ms", "failures 1/10", "task CPU 23%"):
        assert part in line
    assert snapshot(phase="cooldown").line().startswith("cooldown")
    assert "task CPU -" in snapshot(task_cpu=None).line()


def test_plain_output_is_throttled_and_notes_always_print() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200)
    with Progress(console, plain_every=5) as progress:
        progress.show(snapshot(), now=0)
        progress.show(snapshot(users=4), now=1)
        progress.show(snapshot(users=5), now=5)
        progress.note("alarm cpu: OK -> ALARM")
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 3
    assert "users 5" in lines[1] and "ALARM" in lines[2]


def test_steps_table_has_one_row_per_step() -> None:
    windows = step_windows([0.0, 10.0], (1, 3), 20.0, 0.2)
    stats = step_stats([RequestRecord(5.0, "/", "GET", 12.0, True, 0)], windows, ServerSeries())
    buffer = io.StringIO()
    Console(file=buffer, width=200).print(steps_table(stats))
    text = buffer.getvalue()
    assert "p95 ms" in text and "task CPU %" in text
    assert len([line for line in text.splitlines() if line.startswith("│")]) == 2
