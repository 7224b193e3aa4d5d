"""A recorded run, read once from its directory into one frozen value the analysis works on.

`load_run` is tolerant: a run stopped with Ctrl-C may lack steps.json, metrics.db or some
series; what is absent becomes empty and is listed in `RecordedRun.missing`, so the report can
say what it could not show instead of failing. What cannot be read at all (no manifest.json, a
metrics.db that is not a metric store or is damaged) is a one-line UsageError naming the file.

    run = load_run(Path("runs/20261127-140000-demo-1task"))
    run.steps, run.latency, run.task_cpu["1"], run.target.summary, run.missing
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.history import (
    ActionResult,
    HistoryItem,
    actions_in,
    definitions_in,
    history_in,
)
from rightsizer.alarms.watched_series import series_key
from rightsizer.analysis.target import RecordedTarget, TargetKind
from rightsizer.analysis.time_series import Series, average_across
from rightsizer.errors import RightsizerError, UsageError
from rightsizer.manifest import RUNNING, Manifest, read_manifest
from rightsizer.metrics import names
from rightsizer.metrics.service import service_samples
from rightsizer.metrics.store import Datapoint, MetricKey, MetricStore, aggregate, unreadable
from rightsizer.rundir import RunDir
from rightsizer.slo import Slo
from rightsizer.stepsfile import Step, parse_steps


@dataclass(frozen=True)
class Alarm:
    """One alarm of the run: its PutMetricAlarm definition, its transitions, and `view`: the
    datapoints it evaluated (its statistic per period over the series it watches)."""

    name: str
    definition: Mapping[str, Any]
    history: tuple[HistoryItem, ...] = ()
    view: tuple[Datapoint, ...] = ()
    actions: tuple[ActionResult, ...] = ()  # what its actions did, in the order they ended

    @property
    def statistic(self) -> str | None:
        value = self.definition.get("Statistic") or self.definition.get("ExtendedStatistic")
        return value if isinstance(value, str) else None

    @property
    def threshold(self) -> float | None:
        value = self.definition.get("Threshold")
        return float(value) if isinstance(value, int | float) else None

    @property
    def period(self) -> float | None:
        value = self.definition.get("Period")
        return float(value) if isinstance(value, int | float) and value > 0 else None

    @property
    def metric_name(self) -> str | None:
        value = self.definition.get("MetricName")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class RecordedRun:
    """Everything one run measured. Times are epoch seconds; `origin` is time zero for charts."""

    label: str
    manifest: Manifest = field(default_factory=Manifest)
    steps: tuple[Step, ...] = ()
    slo: Slo = field(default_factory=Slo)
    users: Series = field(default_factory=Series)
    rps: Series = field(default_factory=Series)
    requests: Series = field(default_factory=Series)  # count per second
    failures: Series = field(default_factory=Series)
    latency: Series = field(default_factory=Series)  # ms, one sample per request
    task_cpu: Mapping[str, Series] = field(default_factory=dict)
    service_cpu: Series = field(default_factory=Series)
    task_memory: Mapping[str, Series] = field(default_factory=dict)
    service_memory: Series = field(default_factory=Series)
    generator_cpu: Series = field(default_factory=Series)
    lb_response_time: Series = field(default_factory=Series)  # seconds, HAProxy's view
    alarms: tuple[Alarm, ...] = ()
    missing: tuple[str, ...] = ()
    path: Path | None = None
    target: RecordedTarget = field(default_factory=RecordedTarget)

    @property
    def tasks(self) -> int | None:
        """The fleet's task count; None for an external target (--host), whose tasks are
        unknown. A run whose target was not recorded counts the tasks it sampled."""
        if self.target.kind is TargetKind.UNKNOWN:
            return len(self.task_cpu) or None
        return self.target.tasks

    @property
    def searched(self) -> bool:
        """The steps were chosen during the run (`--users auto`), not listed in advance."""
        return self.manifest.searched

    @property
    def load_start(self) -> float | None:
        return self.manifest.load_start

    @property
    def load_end(self) -> float | None:
        return self.manifest.load_end

    @property
    def origin(self) -> float:
        """Time zero of the run: the load start, else the first step or sample."""
        candidates = [s.start for s in self.steps if s.start is not None]
        candidates += [s.times[0] for s in (self.users, self.rps, self.service_cpu) if s]
        return self.load_start or (min(candidates) if candidates else 0.0)

    @property
    def end(self) -> float:
        """The last moment anything was recorded (load end or later samples, alarms)."""
        candidates = [self.origin, self.load_end or 0.0]
        candidates += [s.end for s in self.steps if s.end is not None]
        candidates += [s.times[-1] for s in (self.users, self.rps, self.service_cpu) if s]
        candidates += [h.timestamp for a in self.alarms for h in a.history]
        return max(candidates)


def load_run(path: Path) -> RecordedRun:
    """Read a run directory; UsageError when it is not one (no manifest.json, or one that is
    not a JSON object) or when its metrics.db cannot be read."""
    run_dir = RunDir.open(path)
    manifest = read_manifest(run_dir)
    missing: list[str] = []
    try:
        raw_steps = run_dir.steps()
    except UsageError as exc:
        raw_steps = []
        missing.append(str(exc).replace(str(run_dir.path) + "/", ""))
    steps = parse_steps(raw_steps)
    if len(steps) < len(raw_steps):
        skipped = len(raw_steps) - len(steps)
        missing.append(f"steps.json: {skipped} entries left out (not a step with a users count)")
    base = RecordedRun(
        manifest.label or run_dir.path.name,
        manifest,
        steps,
        manifest.slo,
        path=run_dir.path,
        target=RecordedTarget.from_json(manifest.target),
    )
    if not run_dir.metrics_path.is_file():
        missing.append("metrics.db: missing; no time series, alarm history or raw latencies")
        return replace(base, missing=tuple(missing))
    with MetricStore(run_dir.metrics_path, readonly=True) as store:
        definitions, history = _read_alarm_tables(store)
        series = _read_series(store)
        alarms = _alarms(definitions, history, store)
    run = replace(base, alarms=alarms, **series)
    missing += _absent(run)
    return replace(run, missing=tuple(missing))


def _read_series(store: MetricStore) -> dict[str, Any]:
    keys = store.keys(namespace=names.NAMESPACE)

    def one(name: str, **dims: str) -> Series:
        exact = MetricKey.of(name, **dims)
        if exact in keys:
            return Series.of(store.samples(exact))
        # No series without dimensions: merge every per-name series (one sample per event).
        parts = [k for k in keys if k.name == name] if not dims else []
        return Series.of(pair for k in parts for pair in store.samples(k))

    def per_task(name: str) -> dict[str, Series]:
        tasks = [k for k in keys if k.name == name and names.TASK_DIMENSION in k.dimension_map]
        return {
            k.dimension_map[names.TASK_DIMENSION]: Series.of(store.samples(k))
            for k in sorted(tasks, key=_task_order)
        }

    def service(name: str) -> Series:
        return average_across([Series.of(service_samples(store, name))])

    task_cpu = per_task(names.CPU_UTILIZATION)
    task_memory = per_task(names.MEMORY_UTILIZATION)
    lb = [k for k in keys if k.name == names.TARGET_RESPONSE_TIME and len(k.dimensions) == 1]
    return {
        "users": one(names.CLIENT_USERS),
        "rps": one(names.CLIENT_RPS),
        "requests": one(names.CLIENT_REQUEST_COUNT),
        "failures": one(names.CLIENT_FAILURE_COUNT),
        "latency": one(names.CLIENT_RESPONSE_TIME),
        "task_cpu": task_cpu,
        "service_cpu": service(names.CPU_UTILIZATION),
        "task_memory": task_memory,
        "service_memory": service(names.MEMORY_UTILIZATION),
        "generator_cpu": one(names.GENERATOR_CPU),
        "lb_response_time": Series.of(store.samples(lb[0])) if lb else Series(),
    }


def _task_order(key: MetricKey) -> tuple[int, str]:
    task = key.dimension_map[names.TASK_DIMENSION]
    return (int(task), task) if task.isdigit() else (1 << 30, task)


def _read_alarm_tables(store: MetricStore) -> tuple[dict[str, Any], list[HistoryItem]]:
    try:
        return definitions_in(store), history_in(store)
    except ValueError as exc:  # a definition or reason data that is not JSON
        raise unreadable(store.path, exc) from None


def _alarms(
    definitions: Mapping[str, Any], history: list[HistoryItem], store: MetricStore
) -> tuple[Alarm, ...]:
    alarm_names = sorted(set(definitions) | {h.alarm_name for h in history})
    outcomes = actions_in(store)
    alarms = []
    for name in alarm_names:
        raw = definitions.get(name)
        definition: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        items = tuple(h for h in history if h.alarm_name == name)
        done = tuple(a for a in outcomes if a.alarm_name == name)
        alarms.append(Alarm(name, definition, items, _view(definition, store), done))
    return tuple(alarms)


def _view(definition: Mapping[str, Any], store: MetricStore) -> tuple[Datapoint, ...]:
    """The datapoints the alarm evaluated: its statistic per epoch-aligned period over the
    raw samples of the series it watches; none when the definition cannot be read."""
    if not definition:
        return ()
    try:
        alarm = AlarmDefinition.from_json(definition)
    except (RightsizerError, ValueError, TypeError, KeyError):
        return ()
    return tuple(aggregate(store.samples(series_key(alarm)), alarm.period, alarm.statistic))


def _absent(run: RecordedRun) -> list[str]:
    checks = [
        (run.latency, "per-request response times (ClientResponseTime)"),
        (run.users, "the users series (ClientUsers)"),
        (run.rps, "the requests-per-second series (ClientRPS)"),
        (run.service_cpu, "task CPU samples (CPUUtilization): no fleet sampler this run"),
        (run.service_memory, "task memory samples (MemoryUtilization)"),
    ]
    notes = [f"metrics.db has no {what}" for series, what in checks if not series]
    if not run.alarms:
        notes.append("metrics.db has no alarm definitions or history")
    if run.load_end is None:
        notes.append("manifest.json has no load_end: the run was stopped before it finished")
    stop = run.manifest.stop
    if stop is not None and stop.note is not None:
        notes.append(stop.note)
    elif run.manifest.status == RUNNING:
        notes.append("manifest.json says the run is still running: it did not end cleanly")
    return notes
