"""Per-step statistics: the client's figures next to the tasks' CPU and memory, same window.

Pure: records, step windows and series in, `StepStats` out; no Locust, no clock.

- A request belongs to the step during which it was sent (its start time). Requests that users
  finished after the load stopped (the graceful end) belong to the last step.
- Counts (`requests_total`, `failures`, per-name `count`/`failures`) cover the whole step.
- Rates, ratios, percentiles and utilizations cover the steady window [steady_start, end):
  `rps` = requests sent in it / its length; `fail_ratio` = its failures / its requests.
- Percentiles are nearest-rank over the exact response times of every request in the window,
  failures included (as Locust counts them), so p99 <= max_ms always.
- `cpu_utilization` is the Average of the service's CPUUtilization samples in the window (one
  sample per task per tick, so the average across tasks, as ECS publishes it); `_max` their
  Maximum (the busiest task). `generator_bound` is true when the generator's busiest process
  used more than 85% of a core in any second of the window, or any one process did in any of
  its samples there (`generator_cpu_by_process`: the master, or `local`, and each worker from
  its reports), or a worker was busy (on a core or waiting for one, `generator_busy_by_process`;
  rightsizer.load.generator) more than 85% of the time (`generator_bound_processes` names them).
- A step is `complete` unless a worker was lost while it ran (`lost_workers`): the requests that
  worker made after its last report never arrived, so the step's counts are short, not real.
- With `--arrival-rate` (an open model, rightsizer.load.arrival) a step has `arrival`
  (`ArrivalStats`): the intended and achieved rates of iterations, the slots due in the step
  and how many started, late or not at all, the users the rate needed, and the latency from
  each request's intended start (corrected for coordinated omission) next to the raw one.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rightsizer.load.arrival import LATE_SECONDS, Iteration
from rightsizer.load.records import RequestRecord
from rightsizer.metrics import names
from rightsizer.metrics.service import service_samples
from rightsizer.metrics.statistics import percentile
from rightsizer.metrics.store import MetricKey, MetricStore

GENERATOR_BOUND_PERCENT = 85.0
Series = Sequence[tuple[float, float]]


@dataclass(frozen=True)
class StepWindow:
    """When step `index` (with `users` users) ran, in epoch seconds."""

    index: int
    users: int
    start: float
    end: float
    steady_start: float
    last: bool = False
    rate: float | None = None  # --arrival-rate: iterations a second intended

    @property
    def due(self) -> int:
        """Slots of an open-model step due in it (slot 0 at its start; 0 without a rate)."""
        if self.rate is None:
            return 0
        return max(0, math.ceil(self.rate * (self.end - self.start) - 1e-9))

    def holds(self, start: float) -> bool:
        return self.start <= start and (self.last or start < self.end)

    def steady(self, start: float) -> bool:
        return self.steady_start <= start < self.end

    @property
    def late(self) -> float:
        """Where the second half of the steady part begins (see StepStats.answered)."""
        return self.steady_start + (self.end - self.steady_start) / 2


def step_windows(
    starts: Sequence[float],
    users: Sequence[int],
    load_end: float,
    warmup: float,
    rates: Sequence[float] = (),
) -> list[StepWindow]:
    """Windows of the steps that began at `starts` (a step ends when the next one begins, the
    last at `load_end`); `warmup` is the fraction of each step before its steady window;
    `rates` the open model's intended rates, one per step (none in a closed-model run)."""
    windows: list[StepWindow] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else max(load_end, start)
        steady = start + warmup * (end - start)
        last = index == len(starts) - 1
        rate = rates[index] if index < len(rates) else None
        windows.append(StepWindow(index, users[index], start, end, steady, last, rate))
    return windows


@dataclass(frozen=True)
class ServerSeries:
    """Samples (epoch seconds, value) read from the store for the steps' windows."""

    cpu: Series = ()
    memory: Series = ()
    generator: Series = ()
    processes: Mapping[str, Series] = field(default_factory=dict)  # generator CPU per process
    busy: Mapping[str, Series] = field(default_factory=dict)  # ... and how busy each was


@dataclass(frozen=True)
class Loss:
    """A worker lost during the load: what it sent after `last_report` never arrived; the
    master noticed at `noticed` (epoch seconds)."""

    worker: str
    last_report: float
    noticed: float

    def as_dict(self) -> dict[str, Any]:
        return {"worker": self.worker, "last_report": self.last_report, "noticed": self.noticed}

    def touches(self, window: StepWindow) -> bool:
        end = math.inf if window.last else window.end
        return self.last_report < end and self.noticed >= window.start


@dataclass(frozen=True)
class Latency:
    """Exact nearest-rank percentiles of one set of response times, in milliseconds."""

    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None
    count: int = 0

    @classmethod
    def of(cls, values: list[float]) -> Latency:
        if not values:
            return cls()
        ordered = sorted(values)
        return cls(
            percentile(ordered, 50),
            percentile(ordered, 90),
            percentile(ordered, 95),
            percentile(ordered, 99),
            ordered[-1],
            len(ordered),
        )


@dataclass
class _Tally:
    count: int = 0
    failures: int = 0
    steady_count: int = 0
    steady_failures: int = 0
    steady_ms: list[float] = field(default_factory=list)
    early_ms: list[float] = field(default_factory=list)
    answered_ms: list[float] = field(default_factory=list)
    corrected_ms: list[float] = field(default_factory=list)

    def add(self, record: RequestRecord, steady: bool) -> None:
        self.count += 1
        self.failures += not record.ok
        if steady:
            self.steady_count += 1
            self.steady_failures += not record.ok
            self.steady_ms.append(record.response_ms)
            if (corrected := record.corrected_ms) is not None:
                self.corrected_ms.append(corrected)


@dataclass(frozen=True)
class ArrivalStats:
    """An open-model step: iterations intended against what the generator achieved.

    `due` slots fell in the step and `started` of them began (`late`: more than
    arrival.LATE_SECONDS after their slot; `dropped`: never, the pool of `window.users` was
    busy until the step ended). `achieved_rate`: iterations begun in the steady window a
    second. `users_needed`: the rate times the mean iteration (Little's law), the pool the rate
    needed at the latency the step saw. `corrected`: latency from each request's intended start
    (raw is StepStats.latency)."""

    intended_rate: float
    achieved_rate: float | None
    due: int
    started: int
    late: int
    max_late_ms: float | None
    users_needed: int | None
    corrected: Latency

    @property
    def dropped(self) -> int:
        return max(0, self.due - self.started)

    def as_dict(self) -> dict[str, Any]:
        return {
            "intended_rate": self.intended_rate,
            "achieved_rate": self.achieved_rate,
            "iterations_due": self.due,
            "iterations_started": self.started,
            "late_starts": self.late,
            "dropped_starts": self.dropped,
            "max_late_ms": self.max_late_ms,
            "users_needed": self.users_needed,
            "corrected_p50_ms": self.corrected.p50,
            "corrected_p95_ms": self.corrected.p95,
            "corrected_p99_ms": self.corrected.p99,
            "corrected_max_ms": self.corrected.max,
        }


def arrival_stats(
    window: StepWindow, iterations: Sequence[Iteration], corrected_ms: list[float]
) -> ArrivalStats | None:
    """The open-model figures of one step (None without a rate): its iterations are those whose
    slot fell in it."""
    if window.rate is None:
        return None
    mine = [it for it in iterations if window.holds(it.intended)]
    late = [it.late for it in mine if it.late > LATE_SECONDS]
    seconds = window.end - window.steady_start
    steady = [it for it in mine if window.steady(it.start)]
    durations = [it.end - it.start for it in steady if it.end is not None]
    mean = _mean(durations)
    return ArrivalStats(
        intended_rate=window.rate,
        achieved_rate=len(steady) / seconds if seconds > 0 else None,
        due=window.due,
        started=len(mine),
        late=len(late),
        max_late_ms=max(late) * 1000.0 if late else None,
        users_needed=None if mean is None else max(1, math.ceil(window.rate * mean - 1e-9)),
        corrected=Latency.of(corrected_ms),
    )


@dataclass(frozen=True)
class RequestStats:
    """One request name within one step."""

    count: int
    failures: int
    rps: float | None
    latency: Latency

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "failures": self.failures,
            "rps": self.rps,
            "p50_ms": self.latency.p50,
            "p95_ms": self.latency.p95,
            "p99_ms": self.latency.p99,
            "max_ms": self.latency.max,
        }


@dataclass(frozen=True)
class StepStats:
    """One row of steps.json."""

    window: StepWindow
    requests_total: int
    failures: int
    fail_ratio: float | None
    rps: float | None
    latency: Latency
    cpu_utilization: float | None
    cpu_utilization_max: float | None
    memory_utilization: float | None
    generator_cpu: float | None
    generator_bound: bool
    requests: dict[str, RequestStats]
    # Requests sent in the step whose answers came back in the second half of its steady
    # part: the queue as it stands at the step's end. While a step still runs, the slowest
    # requests sent in it have not come back yet; those sent earlier in it and answered now
    # show a queue that persists. The burst of users starting together (each begins with a
    # request, not a wait) has drained by then unless the fleet cannot carry the step;
    # requests of an earlier step are left out (a backlog they left is that step's). For the
    # search while the step runs. `early`: the same for the first half of the steady part;
    # the two halves' p95 and counts are in steps.json (p95_early_ms, answered_early, ...) for
    # rightsizer.analysis.limit.settled: was the queue still moving when the step ended?
    answered: Latency = field(default_factory=lambda: Latency.of([]))
    early: Latency = field(default_factory=lambda: Latency.of([]))
    generator_by_process: dict[str, float | None] = field(default_factory=dict)
    generator_busy_by_process: dict[str, float | None] = field(default_factory=dict)
    generator_bound_processes: tuple[str, ...] = ()
    lost_workers: tuple[str, ...] = ()
    arrival: ArrivalStats | None = None

    @property
    def complete(self) -> bool:
        return not self.lost_workers

    def as_dict(self) -> dict[str, Any]:
        w = self.window
        return {
            "index": w.index,
            "users": w.users,
            "start": w.start,
            "end": w.end,
            "steady_start": w.steady_start,
            "requests_total": self.requests_total,
            "failures": self.failures,
            "fail_ratio": self.fail_ratio,
            "rps": self.rps,
            "p50_ms": self.latency.p50,
            "p90_ms": self.latency.p90,
            "p95_ms": self.latency.p95,
            "p99_ms": self.latency.p99,
            "max_ms": self.latency.max,
            "cpu_utilization": self.cpu_utilization,
            "cpu_utilization_max": self.cpu_utilization_max,
            "memory_utilization": self.memory_utilization,
            "generator_cpu": self.generator_cpu,
            "generator_bound": self.generator_bound,
            "generator_cpu_by_process": dict(self.generator_by_process),
            "generator_busy_by_process": dict(self.generator_busy_by_process),
            "generator_bound_processes": list(self.generator_bound_processes),
            "complete": self.complete,
            "lost_workers": list(self.lost_workers),
            "p95_early_ms": self.early.p95,
            "answered_early": self.early.count,
            "p95_late_ms": self.answered.p95,
            "answered_late": self.answered.count,
            "requests": {name: stats.as_dict() for name, stats in self.requests.items()},
            **({} if self.arrival is None else {"arrival": self.arrival.as_dict()}),
        }


def _in_window(series: Series, window: StepWindow) -> list[float]:
    return [value for ts, value in series if window.steady_start <= ts < window.end]


def _mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _tally(
    records: Sequence[RequestRecord], windows: Sequence[StepWindow]
) -> list[dict[str, _Tally]]:
    """Per step, per request name ("" = all names), the counts and steady latencies."""
    tallies: list[dict[str, _Tally]] = [defaultdict(_Tally) for _ in windows]
    starts = [window.start for window in windows]
    for record in records:
        position = bisect.bisect_right(starts, record.start) - 1
        if position < 0 or not windows[position].holds(record.start):
            continue  # sent before the first step began: not part of any step
        window = windows[position]
        steady = window.steady(record.start)
        tallies[position][""].add(record, steady)
        tallies[position][record.name].add(record, steady)
        if window.late <= record.end < window.end:
            tallies[position][""].answered_ms.append(record.response_ms)
        elif window.steady_start <= record.end < window.late:
            tallies[position][""].early_ms.append(record.response_ms)
    return tallies


def _request_stats(tally: _Tally, seconds: float) -> RequestStats:
    rps = tally.steady_count / seconds if seconds > 0 else None
    return RequestStats(tally.count, tally.failures, rps, Latency.of(tally.steady_ms))


def step_stats(
    records: Sequence[RequestRecord],
    windows: Sequence[StepWindow],
    series: ServerSeries,
    losses: Sequence[Loss] = (),
    iterations: Sequence[Iteration] = (),
) -> list[StepStats]:
    """Statistics of every step; see the module docstring for what each figure covers."""
    ordered = sorted(windows, key=lambda w: w.index)
    stats: list[StepStats] = []
    for window, tally in zip(ordered, _tally(records, ordered), strict=True):
        total = tally[""]
        seconds = window.end - window.steady_start
        cpu = _in_window(series.cpu, window)
        generator = _in_window(series.generator, window)
        by_process = {name: _in_window(s, window) for name, s in sorted(series.processes.items())}
        busy = {name: _in_window(s, window) for name, s in sorted(series.busy.items())}
        bound_processes = tuple(
            name
            for name in sorted(set(by_process) | set(busy))
            if any(
                v > GENERATOR_BOUND_PERCENT for v in by_process.get(name, []) + busy.get(name, [])
            )
        )
        stats.append(
            StepStats(
                window=window,
                requests_total=total.count,
                failures=total.failures,
                fail_ratio=total.steady_failures / total.steady_count
                if total.steady_count
                else None,
                rps=total.steady_count / seconds if seconds > 0 else None,
                latency=Latency.of(total.steady_ms),
                cpu_utilization=_mean(cpu),
                cpu_utilization_max=max(cpu) if cpu else None,
                memory_utilization=_mean(_in_window(series.memory, window)),
                generator_cpu=_mean(generator),
                generator_bound=any(v > GENERATOR_BOUND_PERCENT for v in generator)
                or bool(bound_processes),
                requests={
                    name: _request_stats(t, seconds) for name, t in sorted(tally.items()) if name
                },
                answered=Latency.of(total.answered_ms),
                early=Latency.of(total.early_ms),
                generator_by_process={name: _mean(v) for name, v in by_process.items()},
                generator_busy_by_process={name: _mean(v) for name, v in busy.items()},
                generator_bound_processes=bound_processes,
                lost_workers=tuple(
                    sorted({loss.worker for loss in losses if loss.touches(window)})
                ),
                arrival=arrival_stats(window, iterations, total.corrected_ms),
            )
        )
    return stats


def steps_document(stats: Sequence[StepStats]) -> dict[str, Any]:
    """The steps.json document."""
    return {"steps": [step.as_dict() for step in stats]}


def measure_steps(
    records: Sequence[RequestRecord],
    *,
    starts: Sequence[float],
    users: Sequence[int],
    load_end: float,
    warmup: float,
    store: MetricStore,
    series_end: float | None = None,
    losses: Sequence[Loss] = (),
    rates: Sequence[float] = (),
    iterations: Sequence[Iteration] = (),
) -> list[StepStats]:
    """`step_stats` of the steps that began at `starts`, with the server series read from
    `store` up to `series_end` (default `load_end`); `rates` and `iterations` of an
    open-model load."""
    windows = step_windows(starts, users, load_end, warmup, rates)
    series = read_series(store, starts[0] - 1, (series_end or load_end) + 1)
    return step_stats(records, windows, series, losses, iterations)


def read_series(store: MetricStore, start: float, end: float) -> ServerSeries:
    """The service's CPU and memory samples (rightsizer.metrics.service) and the generator's
    of [start, end) from a run's metric store."""
    return ServerSeries(
        cpu=service_samples(store, names.CPU_UTILIZATION, start, end),
        memory=service_samples(store, names.MEMORY_UTILIZATION, start, end),
        generator=store.samples(MetricKey.of(names.GENERATOR_CPU), start, end),
        processes=_per_process(store, names.GENERATOR_PROCESS_CPU, start, end),
        busy=_per_process(store, names.GENERATOR_PROCESS_BUSY, start, end),
    )


def _per_process(store: MetricStore, name: str, start: float, end: float) -> dict[str, Series]:
    return {
        key.dimension_map.get(names.PROCESS_DIMENSION, ""): store.samples(key, start, end)
        for key in store.keys(name=name)
    }
