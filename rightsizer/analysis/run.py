"""A recorded run, read once from its directory into one frozen value the analysis works on.

`load_run` is tolerant: a run stopped with Ctrl-C may lack steps.json, metrics.db or some
series; what is absent becomes empty and is listed in `Run.missing`, so the report can say what
it could not show instead of failing.

    run = load_run(Path("runs/20261127-140000-demo-1task"))
    run.steps, run.latency, run.task_cpu["1"], run.missing
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rightsizer.alarms.history import HistoryItem, read_definitions, read_history
from rightsizer.analysis.series import Series, average_across
from rightsizer.analysis.steps import Slo, Step, parse_steps
from rightsizer.errors import UsageError
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, MetricStore
from rightsizer.rundir import RunDir


@dataclass(frozen=True)
class Alarm:
    """One alarm of the run: its PutMetricAlarm definition and its transitions."""

    name: str
    definition: Mapping[str, Any]
    history: tuple[HistoryItem, ...] = ()

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
class Run:
    """Everything one run measured. Times are epoch seconds; `origin` is time zero for charts."""

    label: str
    manifest: Mapping[str, Any]
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

    def setting(self, key: str) -> Any:
        """A manifest value, looked up at the top level, then under "settings"."""
        if key in self.manifest:
            return self.manifest[key]
        nested = self.manifest.get("settings")
        return nested.get(key) if isinstance(nested, Mapping) else None

    def number(self, key: str) -> float | None:
        value = self.setting(key)
        return float(value) if isinstance(value, int | float) and value is not True else None

    @property
    def tasks(self) -> int | None:
        value = self.number("tasks")
        return int(value) if value else (len(self.task_cpu) or None)

    @property
    def load_start(self) -> float | None:
        return self.number("load_start")

    @property
    def load_end(self) -> float | None:
        return self.number("load_end")

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


def load_run(path: Path) -> Run:
    """Read a run directory; UsageError when it is not one (no manifest.json)."""
    run_dir = RunDir.open(path)
    manifest = run_dir.manifest()
    missing: list[str] = []
    try:
        steps = parse_steps(run_dir.steps())
    except UsageError as exc:
        steps = ()
        missing.append(str(exc).replace(str(run_dir.path) + "/", ""))
    label = str(manifest.get("label") or run_dir.path.name)
    base = Run(label, manifest, steps, Slo.from_manifest(manifest), path=run_dir.path)
    if not run_dir.metrics_path.is_file():
        missing.append("metrics.db: missing; no time series, alarm history or raw latencies")
        return replace(base, missing=tuple(missing))
    with MetricStore(run_dir.metrics_path, readonly=True) as store:
        series = _read_series(store)
    alarms = _read_alarms(run_dir.metrics_path)
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

    def service(name: str, tasks: Mapping[str, Series]) -> Series:
        level = [k for k in keys if k.name == name and set(k.dimension_map) == {"ServiceName"}]
        if level:
            return average_across(Series.of(store.samples(k)) for k in level)
        return average_across(tasks.values())

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
        "service_cpu": service(names.CPU_UTILIZATION, task_cpu),
        "task_memory": task_memory,
        "service_memory": service(names.MEMORY_UTILIZATION, task_memory),
        "generator_cpu": one(names.GENERATOR_CPU),
        "lb_response_time": Series.of(store.samples(lb[0])) if lb else Series(),
    }


def _task_order(key: MetricKey) -> tuple[int, str]:
    task = key.dimension_map[names.TASK_DIMENSION]
    return (int(task), task) if task.isdigit() else (1 << 30, task)


def _read_alarms(db: Path) -> tuple[Alarm, ...]:
    definitions = read_definitions(db)
    history = read_history(db)
    alarm_names = sorted(set(definitions) | {h.alarm_name for h in history})
    return tuple(
        Alarm(n, definitions.get(n, {}), tuple(h for h in history if h.alarm_name == n))
        for n in alarm_names
    )


def _absent(run: Run) -> list[str]:
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
    if run.manifest.get("interrupted") is True:
        notes.append("the run was interrupted (Ctrl-C): the figures cover what it measured")
    elif run.manifest.get("status") == "running":
        notes.append("manifest.json says the run is still running: it did not end cleanly")
    return notes
