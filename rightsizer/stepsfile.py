"""steps.json, read: one load step as rightsizer.load.step_stats wrote it. The one reader; the
analysis, the report and `alarm replay` all parse steps here.

    steps = read_steps(RunDir.open(path))       # or parse_steps(run_dir.steps())
    [(s.users, s.p95_ms, s.failure_pct) for s in steps]

`Step.from_dict` is tolerant: a field the writer left out (a server-side figure on a `--host`
run, say) or wrote with the wrong type becomes None rather than an error, because a report of
a partial run is still useful. Judging a step against the SLO is rightsizer.slo's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rightsizer.numbers import finite_number
from rightsizer.rundir import RunDir


def _int(raw: Any) -> int | None:
    """A whole number (2 or 2.0); None for anything else, 2.5 included."""
    value = finite_number(raw)
    return int(value) if value is not None and value.is_integer() else None


def _strings(raw: Any) -> tuple[str, ...]:
    """The strings of a JSON list; () for anything else."""
    return tuple(item for item in raw if isinstance(item, str)) if isinstance(raw, list) else ()


def _figures(raw: Any) -> dict[str, float | None]:
    """A JSON object of numbers by name; {} for anything else."""
    if not isinstance(raw, Mapping):
        return {}
    return {str(name): finite_number(value) for name, value in raw.items()}


@dataclass(frozen=True)
class Arrival:
    """An open-model step's figures (`arrival` in steps.json, `--arrival-rate`; see
    rightsizer.load.step_stats.ArrivalStats): iterations a second intended and achieved, the
    slots due and what became of them, the users the rate needed, latency from the intended
    start."""

    intended_rate: float | None = None
    achieved_rate: float | None = None
    iterations_due: int | None = None
    iterations_started: int | None = None
    late_starts: int | None = None
    dropped_starts: int | None = None
    max_late_ms: float | None = None
    users_needed: int | None = None
    corrected_p50_ms: float | None = None
    corrected_p95_ms: float | None = None
    corrected_p99_ms: float | None = None
    corrected_max_ms: float | None = None

    @classmethod
    def from_dict(cls, raw: Any) -> Arrival | None:
        """None for a closed-model step (no `arrival` object)."""
        if not isinstance(raw, Mapping):
            return None
        return cls(
            intended_rate=finite_number(raw.get("intended_rate")),
            achieved_rate=finite_number(raw.get("achieved_rate")),
            iterations_due=_int(raw.get("iterations_due")),
            iterations_started=_int(raw.get("iterations_started")),
            late_starts=_int(raw.get("late_starts")),
            dropped_starts=_int(raw.get("dropped_starts")),
            max_late_ms=finite_number(raw.get("max_late_ms")),
            users_needed=_int(raw.get("users_needed")),
            corrected_p50_ms=finite_number(raw.get("corrected_p50_ms")),
            corrected_p95_ms=finite_number(raw.get("corrected_p95_ms")),
            corrected_p99_ms=finite_number(raw.get("corrected_p99_ms")),
            corrected_max_ms=finite_number(raw.get("corrected_max_ms")),
        )


@dataclass(frozen=True)
class RequestStats:
    """One request name's figures within a step (`requests` in steps.json)."""

    name: str
    count: int | None = None
    failures: int | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any]) -> RequestStats:
        return cls(
            name=name,
            count=_int(raw.get("count")),
            failures=_int(raw.get("failures")),
            rps=finite_number(raw.get("rps")),
            p50_ms=finite_number(raw.get("p50_ms")),
            p95_ms=finite_number(raw.get("p95_ms")),
            p99_ms=finite_number(raw.get("p99_ms")),
            max_ms=finite_number(raw.get("max_ms")),
        )


@dataclass(frozen=True)
class Step:
    """One step of a run. Times are epoch seconds; counts cover the whole step, rates,
    percentiles and utilizations the steady window [steady_start, end)."""

    index: int
    users: int
    start: float | None = None
    end: float | None = None
    steady_start: float | None = None
    requests_total: int | None = None
    failures: int | None = None
    fail_ratio: float | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    cpu_utilization: float | None = None
    cpu_utilization_max: float | None = None
    memory_utilization: float | None = None
    generator_cpu: float | None = None
    generator_bound: bool = False
    requests: tuple[RequestStats, ...] = field(default=())
    # p95 of the requests answered in the first and second half of the steady window, and how
    # many (rightsizer.analysis.limit.settled); None in steps.json written before them.
    p95_early_ms: float | None = None
    answered_early: int | None = None
    p95_late_ms: float | None = None
    answered_late: int | None = None
    # The generator's processes over 85% of a core in the step (master, workers by id), and
    # whether every worker's records arrived (a lost worker makes the step incomplete: its
    # counts are short, not measured); True in steps.json written before them.
    generator_bound_processes: tuple[str, ...] = ()
    generator_cpu_by_process: dict[str, float | None] = field(default_factory=dict, hash=False)
    generator_busy_by_process: dict[str, float | None] = field(default_factory=dict, hash=False)
    complete: bool = True
    lost_workers: tuple[str, ...] = ()
    arrival: Arrival | None = None  # an open-model step's (--arrival-rate)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], position: int = 0) -> Step:
        """Parse one steps.json entry; `position` stands in for a missing index, 0 for
        missing users (`parse_steps` leaves such an entry out)."""
        requests = raw.get("requests")
        index, users = _int(raw.get("index")), _int(raw.get("users"))
        return cls(
            index=position if index is None else index,
            users=users if users is not None and users > 0 else 0,
            start=finite_number(raw.get("start")),
            end=finite_number(raw.get("end")),
            steady_start=finite_number(raw.get("steady_start")),
            requests_total=_int(raw.get("requests_total")),
            failures=_int(raw.get("failures")),
            fail_ratio=finite_number(raw.get("fail_ratio")),
            rps=finite_number(raw.get("rps")),
            p50_ms=finite_number(raw.get("p50_ms")),
            p90_ms=finite_number(raw.get("p90_ms")),
            p95_ms=finite_number(raw.get("p95_ms")),
            p99_ms=finite_number(raw.get("p99_ms")),
            max_ms=finite_number(raw.get("max_ms")),
            cpu_utilization=finite_number(raw.get("cpu_utilization")),
            cpu_utilization_max=finite_number(raw.get("cpu_utilization_max")),
            memory_utilization=finite_number(raw.get("memory_utilization")),
            generator_cpu=finite_number(raw.get("generator_cpu")),
            generator_bound=raw.get("generator_bound") is True,
            p95_early_ms=finite_number(raw.get("p95_early_ms")),
            answered_early=_int(raw.get("answered_early")),
            p95_late_ms=finite_number(raw.get("p95_late_ms")),
            answered_late=_int(raw.get("answered_late")),
            generator_bound_processes=_strings(raw.get("generator_bound_processes")),
            generator_cpu_by_process=_figures(raw.get("generator_cpu_by_process")),
            generator_busy_by_process=_figures(raw.get("generator_busy_by_process")),
            complete=raw.get("complete") is not False,
            lost_workers=_strings(raw.get("lost_workers")),
            arrival=Arrival.from_dict(raw.get("arrival")),
            requests=tuple(
                RequestStats.from_dict(str(name), stats)
                for name, stats in (requests.items() if isinstance(requests, Mapping) else ())
                if isinstance(stats, Mapping)
            ),
        )

    @property
    def failure_pct(self) -> float | None:
        """Failed requests in percent: Locust's `fail_ratio` (a fraction) x 100, else the
        whole-step counts."""
        if self.fail_ratio is not None:
            return self.fail_ratio * 100
        if self.failures is not None and self.requests_total:
            return self.failures / self.requests_total * 100
        return None

    @property
    def window(self) -> tuple[float, float] | None:
        """The steady window (start, end) in epoch seconds, when both ends are known."""
        start = self.steady_start if self.steady_start is not None else self.start
        if start is None or self.end is None or self.end <= start:
            return None
        return (start, self.end)


def parse_steps(raw_steps: Iterable[Any]) -> tuple[Step, ...]:
    """Steps in the order they ran; entries that are not JSON objects or have no whole
    positive number of users are left out (a caller compares lengths to say so)."""
    parsed = (
        Step.from_dict(raw, position)
        for position, raw in enumerate(raw_steps)
        if isinstance(raw, Mapping)
    )
    return tuple(step for step in parsed if step.users > 0)


def read_steps(run_dir: RunDir) -> tuple[Step, ...]:
    """The steps of a run directory (UsageError when steps.json is missing or broken)."""
    return parse_steps(run_dir.steps())
