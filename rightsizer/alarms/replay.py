"""Replay: the same engine over a recorded run, once per alarm setting, against the run's SLO.

    grid = ReplayGrid(base_alarm("CPUUtilization"), thresholds=(20, 30, 50), periods=(10, 60))
    rows = replay(RunDir.open(path), grid)          # judged by the SLO the run recorded
    best = recommend(rows)

Definitions (times in seconds; "relative" means from the run's load_start). The alarm's own
outcome (first ALARM, back to OK, flaps) is rightsizer.alarms.outcome's, as the report's is.
- SLO break: the start of the first step that misses the SLO (rightsizer.slo: a figure at the
  limit misses it). A step without a p95 (no request finished) is not judged. None when every
  judged step met it.
- first_alarm_s: the first transition into ALARM, relative.
- onset_s: the transition into ALARM that was still in force when the SLO broke (the alarm
  stayed in ALARM from it to the break), or when the alarm was not in ALARM then, the first
  one after the break; relative. An early false alarm that went back to OK does not count.
- lead_time_s: SLO break - onset; positive = the alarm was early, negative = late;
  None when either never happened.
- back_to_ok_s: from load_end to the first moment the alarm was in OK (0 when it already was
  as the load ended); None when it never was OK after the load stopped.
- flaps: transitions into ALARM after the first one.
- false_alarms: transitions into ALARM at a time when every judged step started so far met the
  SLO with room: p95_ms <= room x p95 limit and failures <= room x failure limit (room = 0.5 by
  default). An alarm while the service is idle (before the first step) counts too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.outcome import alarm_onset, alarm_outcome
from rightsizer.alarms.state import AlarmState
from rightsizer.alarms.timeline import Timeline, Transition, boundaries, datapoints_by_period, run
from rightsizer.alarms.watched_series import default_dimensions, series_key
from rightsizer.errors import UsageError
from rightsizer.manifest import read_manifest
from rightsizer.metrics.store import Datapoint, MetricKey, MetricStore
from rightsizer.rundir import RunDir
from rightsizer.slo import Slo
from rightsizer.stepsfile import Step, read_steps

ROOM = 0.5


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
class ReplayRow:
    """One setting's outcome over the run; see the module docstring for each figure."""

    alarm: AlarmDefinition
    first_alarm_s: float | None
    onset_s: float | None
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
            "onset_s": self.onset_s,
            "slo_break_s": self.slo_break_s,
            "lead_time_s": self.lead_time_s,
            "back_to_ok": self.back_to_ok_s is not None,
            "back_to_ok_s": self.back_to_ok_s,
            "flaps": self.flaps,
            "false_alarms": self.false_alarms,
        }


@dataclass(frozen=True)
class ReplayInput:
    """What replay needs from a run directory: its load window, its steps (each with a start,
    in the order they started), the base alarm's samples and the SLO the run recorded."""

    load_start: float
    load_end: float
    steps: tuple[Step, ...]
    samples: tuple[tuple[float, float], ...]
    slo: Slo = field(default_factory=Slo)


def replay(
    run_dir: RunDir, grid: ReplayGrid, slo: Slo | None = None, *, room: float = ROOM
) -> list[ReplayRow]:
    """One row per setting of `grid`, in grid order; `slo` defaults to the run's own."""
    facts = read_run(run_dir, grid.base)
    return replay_facts(facts, grid.alarms(), slo, room=room)


def replay_facts(
    facts: ReplayInput,
    alarms: Iterable[AlarmDefinition],
    slo: Slo | None = None,
    *,
    room: float = ROOM,
    break_at: float | None = None,
) -> list[ReplayRow]:
    """`replay` on facts already read (the benchmark and the demo reuse one read).
    `break_at` (epoch seconds) stands in for the SLO break: the demo judges a run whose SLO
    never broke against the moment its load passed what the fleet carries."""
    judge = _Judge(slo or facts.slo, room, facts.steps)
    broke = judge.slo_break() if break_at is None else break_at
    cache: dict[tuple[int, str], dict[int, Datapoint]] = {}
    rows = []
    for alarm in alarms:
        key = (alarm.period, alarm.statistic.name)
        if key not in cache:
            cache[key] = datapoints_by_period(facts.samples, alarm)
        rows.append(_row(alarm, facts, cache[key], judge, broke))
    return rows


@dataclass(frozen=True)
class _Judge:
    """The steps against the SLO: where it broke, and whether a moment had room."""

    slo: Slo
    room: float
    steps: tuple[Step, ...]

    def judged(self) -> Iterable[Step]:
        """Steps with a p95 (the others are not judged), in the order they started."""
        return (s for s in self.steps if s.p95_ms is not None)

    def slo_break(self) -> float | None:
        return next(
            (s.start for s in self.judged() if not self.slo.met(s.p95_ms, s.failure_pct)), None
        )

    def has_room(self, step: Step) -> bool:
        p95, failures = step.p95_ms or 0.0, step.failure_pct or 0.0
        return p95 <= self.room * self.slo.p95_ms and failures <= self.room * self.slo.failure_pct

    def is_false(self, time: float) -> bool:
        """An alarm at `time` is false when every judged step begun by then had room."""
        return all(self.has_room(s) for s in self.judged() if (s.start or 0.0) <= time)


def _row(
    alarm: AlarmDefinition,
    facts: ReplayInput,
    points: dict[int, Datapoint],
    judge: _Judge,
    broke: float | None,
) -> ReplayRow:
    timeline = _timeline(alarm, points)
    history = [t.as_history_item() for t in timeline.transitions]
    outcome = alarm_outcome(history, facts.load_end)
    onset = None if broke is None else alarm_onset(history, broke)
    into_alarm = [t.time for t in timeline.transitions if t.new_state is AlarmState.ALARM]
    return ReplayRow(
        alarm=alarm,
        first_alarm_s=_relative(outcome.first_alarm, facts.load_start),
        onset_s=_relative(onset, facts.load_start),
        slo_break_s=_relative(broke, facts.load_start),
        lead_time_s=None if onset is None or broke is None else broke - onset,
        back_to_ok_s=outcome.back_to_ok_after(facts.load_end),
        flaps=outcome.flaps,
        false_alarms=sum(judge.is_false(t) for t in into_alarm),
        transitions=tuple(timeline.transitions),
    )


def _relative(time: float | None, origin: float) -> float | None:
    return None if time is None else time - origin


def _timeline(alarm: AlarmDefinition, points: dict[int, Datapoint]) -> Timeline:
    if not points:
        return Timeline([], [])
    first, last = min(points) * alarm.period, (max(points) + 1) * alarm.period
    return run(alarm, points, boundaries(alarm.period, first, last))


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


def read_run(run_dir: RunDir, base: AlarmDefinition) -> ReplayInput:
    """Load times, steps, the SLO and the base alarm's series from a run directory."""
    manifest = read_manifest(run_dir)
    steps = _timed_steps(read_steps(run_dir), run_dir)
    load_start = manifest.load_start
    if load_start is None:
        raise UsageError(
            f"{run_dir.manifest_path}: load_start: expected a number (epoch seconds); "
            "the run stopped before its load began, or the file is damaged"
        )
    load_end = manifest.load_end
    if load_end is None:
        load_end = max((s.start or load_start for s in steps), default=load_start)
    # A run against AWS (--ecs) holds the alarm's own series, read from CloudWatch under its
    # exact names; a local fleet's stand in for them otherwise (series_key).
    exact = MetricKey.from_parts(base.namespace, base.metric_name, base.dimension_map)
    with MetricStore(run_dir.metrics_path, readonly=True) as store:
        samples: tuple[tuple[float, float], ...] = ()
        for key in (exact.of_statistic(base.statistic.name), exact, series_key(base)):
            samples = tuple(store.samples(key))
            if samples:
                break
        if not samples:
            known = ", ".join(str(k) for k in store.keys(name=key.name)) or "none"
            raise UsageError(
                f"{run_dir.metrics_path}: no samples of {key}; series of that metric: {known}"
            )
    return ReplayInput(load_start, load_end, steps, samples, manifest.slo)


def _timed_steps(steps: Sequence[Step], run_dir: RunDir) -> tuple[Step, ...]:
    """The steps in the order they started; one without a start cannot be placed: an error."""
    for step in steps:
        if step.start is None:
            raise UsageError(
                f"{run_dir.steps_path}: step {step.index} has no start time (a number); "
                "the file is damaged"
            )
    return tuple(sorted(steps, key=lambda s: s.start or 0.0))
