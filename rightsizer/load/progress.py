"""Live progress in the terminal: step, users, RPS, p95, failures, task CPU %.

On a terminal it is one Rich line, redrawn every second, with notes (warnings, alarm
transitions) printed above it; elsewhere (CI, a pipe) it prints a plain line every
`plain_every` seconds and each note as it comes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from rightsizer.load.records import RequestRecord
from rightsizer.load.step_stats import StepStats
from rightsizer.metrics.statistics import percentile

RECENT_SECONDS = 10.0


class RecentRequests:
    """Requests completed in the last `seconds` seconds: the live RPS and p95."""

    def __init__(self, seconds: float = RECENT_SECONDS) -> None:
        self.seconds = seconds
        self._window: deque[RequestRecord] = deque()

    def add(self, records: Iterable[RequestRecord]) -> None:
        self._window.extend(records)

    def _trim(self, now: float) -> None:
        while self._window and self._window[0].end < now - self.seconds:
            self._window.popleft()

    def rps(self, now: float) -> float:
        self._trim(now)
        return len(self._window) / self.seconds

    def p95(self, now: float) -> float | None:
        self._trim(now)
        if not self._window:
            return None
        return percentile(sorted(r.response_ms for r in self._window), 95)


@dataclass(frozen=True)
class Snapshot:
    """What the progress line shows at one moment."""

    phase: str  # "step", "draining", "cooldown", "starting"
    step: int | None
    steps: int
    users: int
    rps: float
    p95_ms: float | None
    requests: int
    failures: int
    task_cpu: float | None
    generator_cpu: float | None
    remaining: float | None = None

    def line(self) -> str:
        where = self.phase
        if self.phase == "step" and self.step is not None:
            where = f"step {self.step + 1}" + (f"/{self.steps}" if self.steps else "")
        parts = [
            where,
            f"users {self.users}",
            f"RPS {self.rps:.1f}",
            f"p95 {self.p95_ms:.0f} ms" if self.p95_ms is not None else "p95 -",
            f"failures {self.failures}/{self.requests}",
            f"task CPU {self.task_cpu:.0f}%" if self.task_cpu is not None else "task CPU -",
            f"generator {self.generator_cpu:.0f}%" if self.generator_cpu is not None else "",
            f"{self.remaining:.0f} s left" if self.remaining is not None else "",
        ]
        return "  ".join(part for part in parts if part)


class Progress:
    """The live line; use as a context manager around the run."""

    def __init__(self, console: Console, plain_every: float = 5.0) -> None:
        self.console = console
        self.plain_every = plain_every
        self._live: Live | None = None
        self._last_plain: float | None = None

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self._live = Live(console=self.console, auto_refresh=False, transient=False)
            self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def show(self, snapshot: Snapshot, now: float) -> None:
        """Redraw the live line (or print it, now and then, when not on a terminal)."""
        if self._live is not None:
            self._live.update(Text(snapshot.line()), refresh=True)
            return
        if self._last_plain is None or now - self._last_plain >= self.plain_every:
            self._last_plain = now
            self.console.print(snapshot.line(), markup=False, highlight=False)

    def note(self, message: str, style: str = "yellow") -> None:
        """A line that stays (printed above the live line)."""
        self.console.print(Text(message, style=style))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def steps_table(steps: Sequence[StepStats]) -> Table:
    """The per-step summary printed at the end of a run (steps.json has every figure)."""
    table = Table(title="steps (rates, latencies, CPU: steady window)", title_justify="left")
    for header in (
        "step", "users", "requests", "failures", "RPS", "p50 ms", "p95 ms", "p99 ms",
        "max ms", "task CPU %", "CPU max %", "mem %", "generator %",
    ):  # fmt: skip
        table.add_column(header, justify="right")
    for step in steps:
        table.add_row(*_step_cells(step))
    return table


def arrival_table(steps: Sequence[StepStats]) -> Table | None:
    """`--arrival-rate`: per step, the rate intended against achieved, the starts the pool of
    users could not make on time, and latency from the intended start next to the raw one;
    None for a closed-model run."""
    if all(step.arrival is None for step in steps):
        return None
    table = Table(
        title="open model (iterations a second; latency from the intended start)",
        title_justify="left",
    )
    for header in (
        "step", "rate/s", "achieved/s", "started", "late", "dropped", "users", "needed",
        "p95 ms", "corrected p95 ms", "corrected max ms",
    ):  # fmt: skip
        table.add_column(header, justify="right")
    for step in steps:
        a = step.arrival
        if a is None:
            continue
        table.add_row(
            str(step.window.index + 1),
            f"{a.intended_rate:g}",
            "-" if a.achieved_rate is None else f"{a.achieved_rate:.2f}",
            f"{a.started} of {a.due}",
            str(a.late),
            str(a.dropped),
            str(step.window.users),
            "-" if a.users_needed is None else str(a.users_needed),
            _ms(step.latency.p95),
            _ms(a.corrected.p95),
            _ms(a.corrected.max),
        )
    return table


def _step_cells(step: StepStats) -> tuple[str, ...]:
    """The closed-model columns of one step."""
    return (
        str(step.window.index + 1) + ("" if step.complete else " incomplete"),
        str(step.window.users),
        str(step.requests_total),
        str(step.failures),
        "-" if step.rps is None else f"{step.rps:.2f}",
        _ms(step.latency.p50),
        _ms(step.latency.p95),
        _ms(step.latency.p99),
        _ms(step.latency.max),
        _pct(step.cpu_utilization),
        _pct(step.cpu_utilization_max),
        _pct(step.memory_utilization),
        _pct(step.generator_cpu) + (" bound" if step.generator_bound else ""),
    )
