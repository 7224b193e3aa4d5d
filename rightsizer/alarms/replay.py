"""Replay: the same engine over a recorded run, once per alarm setting, against the run's SLO.

    grid = ReplayGrid(base_alarm("CPUUtilization"), thresholds=(20, 30, 50), periods=(10, 60))
    rows = replay(RunDir.open(path), grid, Slo(p95_ms=1000))
    best = recommend(rows)

Definitions (times in seconds; "relative" means from the run's load_start):
- SLO break: the start of the first step whose p95_ms > Slo.p95_ms or whose
  fail_ratio x 100 > Slo.failures_pct. None when every step met the SLO.
- first_alarm_s: the first transition into ALARM, relative.
- lead_time_s: SLO break - first ALARM; positive = the alarm was early, negative = late;
  None when either never happened.
- back_to_ok_s: from load_end to the first evaluation at or after it in state OK
  (0 when the alarm was already OK); None when it never was OK after the load stopped.
- flaps: transitions into ALARM after the first one.
- false_alarms: transitions into ALARM at a time when every step started so far met the SLO
  with room: p95_ms <= room x Slo.p95_ms and failures <= room x Slo.failures_pct (room = 0.5
  by default). An alarm while the service is idle (before the first step) counts too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.series import default_dimensions, series_key
from rightsizer.alarms.state import AlarmState
from rightsizer.alarms.timeline import Timeline, Transition, boundaries, datapoints_by_period, run
from rightsizer.errors import UsageError
from rightsizer.metrics.store import Datapoint, MetricStore
from rightsizer.rundir import RunDir


@dataclass(frozen=True)
class ReplayGrid:
    """The settings to try: every threshold x period x N x M (M <= N; no M given means M = N).
    Metric, statistic, operator and missing-data treatment come from `base`."""

    base: AlarmDefinition
    thresholds: tuple[float, ...]
    periods: tuple[int, ...]
    evaluation_periods: tuple[int, ...] = (1,)
    datapoints_to_alarm: tuple[int, ...] = ()

    def alarms(self) -> list[AlarmDefinition]:
        out = []
        for period, n, threshold in itertools.product(
            self.periods, self.evaluation_periods, self.thresholds
        ):
            for m in self.datapoints_to_alarm or (n,):
                if m > n:
                    continue
                doc = self.base.to_json() | {
                    "AlarmName": f"{self.base.metric_name}-{threshold:g}-{period}s-{m}of{n}",
                    "Threshold": threshold,
                    "Period": period,
                    "EvaluationPeriods": n,
                    "DatapointsToAlarm": m,
                }
                out.append(AlarmDefinition.from_json(doc))
        return out


def base_alarm(
    metric: str,
    statistic: str = "Average",
    *,
    dimensions: Mapping[str, str] | None = None,
    comparison: str = "GreaterThanThreshold",
    treat_missing_data: str = "missing",
) -> AlarmDefinition:
    """An alarm on one of rightsizer's series, for a grid to vary (threshold and period are
    placeholders). Dimensions default to the service-wide ones of that metric."""
    dims = default_dimensions(metric) if dimensions is None else dict(dimensions)
    stat_field = "ExtendedStatistic" if statistic.startswith("p") else "Statistic"
    return AlarmDefinition.from_json(
        {
            "AlarmName": f"replay-{metric}",
            "Namespace": "rightsizer",
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            stat_field: statistic,
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 0.0,
            "ComparisonOperator": comparison,
            "TreatMissingData": treat_missing_data,
        }
    )


@dataclass(frozen=True)
class Slo:
    """The service level the run is judged by, and the share of it that counts as room."""

    p95_ms: float = 1000.0
    failures_pct: float = 1.0
    room: float = 0.5


@dataclass(frozen=True)
class Step:
    start: float
    p95_ms: float
    failures_pct: float

    def breaks(self, slo: Slo) -> bool:
        return self.p95_ms > slo.p95_ms or self.failures_pct > slo.failures_pct

    def has_room(self, slo: Slo) -> bool:
        return (
            self.p95_ms <= slo.room * slo.p95_ms
            and self.failures_pct <= slo.room * slo.failures_pct
        )


@dataclass(frozen=True)
class ReplayRow:
    """One setting's outcome over the run; see the module docstring for each figure."""

    alarm: AlarmDefinition
    first_alarm_s: float | None
    slo_break_s: float | None
    lead_time_s: float | None
    back_to_ok_s: float | None
    flaps: int
    false_alarms: int
    transitions: tuple[Transition, ...]

    def to_json(self) -> dict[str, Any]:
        a = self.alarm
        return {
            "metric": a.metric_name,
            "statistic": a.statistic.name,
            "comparison": a.comparison.value,
            "threshold": a.threshold,
            "period": a.period,
            "evaluation_periods": a.evaluation_periods,
            "datapoints_to_alarm": a.datapoints_to_alarm,
            "first_alarm_s": self.first_alarm_s,
            "slo_break_s": self.slo_break_s,
            "lead_time_s": self.lead_time_s,
            "back_to_ok": self.back_to_ok_s is not None,
            "back_to_ok_s": self.back_to_ok_s,
            "flaps": self.flaps,
            "false_alarms": self.false_alarms,
        }


@dataclass(frozen=True)
class RunFacts:
    """What replay needs from a run directory."""

    load_start: float
    load_end: float
    steps: tuple[Step, ...]
    samples: tuple[tuple[float, float], ...]


def replay(run_dir: RunDir, grid: ReplayGrid, slo: Slo) -> list[ReplayRow]:
    """One row per setting of `grid`, in grid order."""
    facts = read_run(run_dir, grid.base)
    return replay_facts(facts, grid.alarms(), slo)


def replay_facts(facts: RunFacts, alarms: Iterable[AlarmDefinition], slo: Slo) -> list[ReplayRow]:
    """`replay` on facts already read (the benchmark and the demo reuse one read)."""
    cache: dict[tuple[int, str], dict[int, Datapoint]] = {}
    rows = []
    for alarm in alarms:
        key = (alarm.period, alarm.statistic.name)
        if key not in cache:
            cache[key] = datapoints_by_period(facts.samples, alarm)
        rows.append(_row(alarm, facts, cache[key], slo))
    return rows


def _row(
    alarm: AlarmDefinition, facts: RunFacts, points: dict[int, Datapoint], slo: Slo
) -> ReplayRow:
    timeline = _timeline(alarm, points)
    into_alarm = [t for t in timeline.transitions if t.new_state is AlarmState.ALARM]
    broke = next((s.start for s in facts.steps if s.breaks(slo)), None)
    first = into_alarm[0].time if into_alarm else None
    return ReplayRow(
        alarm=alarm,
        first_alarm_s=None if first is None else first - facts.load_start,
        slo_break_s=None if broke is None else broke - facts.load_start,
        lead_time_s=None if first is None or broke is None else broke - first,
        back_to_ok_s=_back_to_ok(timeline, facts.load_end),
        flaps=max(0, len(into_alarm) - 1),
        false_alarms=sum(_is_false(t.time, facts.steps, slo) for t in into_alarm),
        transitions=tuple(timeline.transitions),
    )


def _timeline(alarm: AlarmDefinition, points: dict[int, Datapoint]) -> Timeline:
    if not points:
        return Timeline([], [])
    first, last = min(points) * alarm.period, (max(points) + 1) * alarm.period
    return run(alarm, points, boundaries(alarm.period, first, last))


def _back_to_ok(timeline: Timeline, load_end: float) -> float | None:
    for evaluation in timeline.evaluations:
        if evaluation.time >= load_end and evaluation.state is AlarmState.OK:
            return evaluation.time - load_end
    return None


def _is_false(time: float, steps: Sequence[Step], slo: Slo) -> bool:
    return all(s.has_room(slo) for s in steps if s.start <= time)


def recommend(rows: Sequence[ReplayRow]) -> ReplayRow | None:
    """The setting that fired at least one period before the SLO broke, preferring no false
    alarms, a return to OK, fewest flaps, then the threshold closest to the break (highest for
    GreaterThan alarms); None when no setting fired early enough (or the SLO never broke)."""
    early = [r for r in rows if r.lead_time_s is not None and r.lead_time_s >= r.alarm.period]

    def rank(row: ReplayRow) -> tuple[float, ...]:
        a = row.alarm
        lateness = -a.threshold if a.comparison.is_upper_bound else a.threshold
        return (
            row.false_alarms,
            row.back_to_ok_s is None,
            row.flaps,
            lateness,
            a.period,
            a.evaluation_periods,
        )

    return min(early, key=rank, default=None)


def read_run(run_dir: RunDir, base: AlarmDefinition) -> RunFacts:
    """Load times, steps and the base alarm's series from a run directory."""
    manifest = run_dir.manifest()
    steps = tuple(_step(s, i, run_dir) for i, s in enumerate(run_dir.steps()))
    load_start = _seconds(manifest.get("load_start"), f"{run_dir.manifest_path}: load_start")
    raw_end = manifest.get("load_end")
    load_end = (
        _seconds(raw_end, f"{run_dir.manifest_path}: load_end")
        if raw_end is not None
        else max((s.start for s in steps), default=load_start)
    )
    if not run_dir.metrics_path.is_file():
        raise UsageError(f"{run_dir.metrics_path}: missing; the run recorded no metrics")
    key = series_key(base)
    with MetricStore(run_dir.metrics_path, readonly=True) as store:
        samples = tuple(store.samples(key))
        if not samples:
            known = ", ".join(str(k) for k in store.keys(name=key.name)) or "none"
            raise UsageError(
                f"{run_dir.metrics_path}: no samples of {key}; series of that metric: {known}"
            )
    return RunFacts(load_start, load_end, tuple(sorted(steps, key=lambda s: s.start)), samples)


def _step(raw: Any, index: int, run_dir: RunDir) -> Step:
    where = f"{run_dir.steps_path}: steps[{index}]"
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected an object")
    p95 = raw.get("p95_ms")
    fail = raw.get("fail_ratio")
    return Step(
        start=_seconds(raw.get("start"), f"{where}.start"),
        p95_ms=0.0 if p95 is None else _seconds(p95, f"{where}.p95_ms"),
        failures_pct=0.0 if fail is None else 100 * _seconds(fail, f"{where}.fail_ratio"),
    )


def _seconds(raw: Any, field: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise UsageError(f"{field}: expected a number, got {raw!r}")
    return float(raw)
