"""An alarm over time: evaluations at every period boundary, and the transitions between them.

    timeline = evaluate_series(alarm, samples, start, end)
    timeline.evaluations   # one per boundary from start to end inclusive
    timeline.transitions   # only where the state changed

`Tracker` holds one alarm's current state; the offline timeline, `alarm replay` and the live
evaluator all step it the same way, so they agree to the byte.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.evaluation import Evaluation, Window, evaluate
from rightsizer.alarms.history import HistoryItem
from rightsizer.alarms.reason import INITIAL_REASON
from rightsizer.alarms.state import AlarmState
from rightsizer.metrics.store import Datapoint

# Offline evaluation refuses ranges with more boundaries than this (a typo in --end).
MAX_BOUNDARIES = 200_000  # 23 days of 10 s periods


@dataclass(frozen=True)
class EvaluationRecord:
    """The state after the evaluation at `time` (a period boundary, epoch seconds)."""

    time: float
    outcome: Evaluation

    @property
    def state(self) -> AlarmState:
        return self.outcome.state

    @property
    def reason(self) -> str:
        return self.outcome.reason


@dataclass(frozen=True)
class Transition:
    """A state change of `alarm_name` at boundary `time`; `reason_data` as CloudWatch's."""

    alarm_name: str
    time: float
    old_state: AlarmState
    new_state: AlarmState
    reason: str
    reason_data: dict[str, Any]

    def as_history_item(self) -> HistoryItem:
        """The transition as alarm history stores it (states as strings)."""
        return HistoryItem(
            self.alarm_name,
            self.time,
            self.old_state.value,
            self.new_state.value,
            self.reason,
            self.reason_data,
        )


@dataclass(frozen=True)
class Timeline:
    evaluations: list[EvaluationRecord]
    transitions: list[Transition]


class Tracker:
    """One alarm's state between evaluations; starts in INSUFFICIENT_DATA as CloudWatch's do."""

    def __init__(self, alarm: AlarmDefinition, *, since: float = 0.0) -> None:
        self.alarm = alarm
        self.state = AlarmState.INSUFFICIENT_DATA
        self.since = since
        # The reason of the last decision, worded when someone reads it.
        self._reason: Callable[[], str] = lambda: INITIAL_REASON

    @property
    def reason(self) -> str:
        """The alarm's StateReason: that of its last decided evaluation."""
        return self._reason()

    def step(
        self, window: Window, *, query_time: float | None = None
    ) -> tuple[Evaluation, Transition | None]:
        """Evaluate one boundary; the transition is None when the state did not change."""
        outcome = evaluate(self.alarm, window, self.state, self._reason, query_time=query_time)
        transition = None
        if outcome.state is not self.state:
            transition = Transition(
                self.alarm.name,
                window.boundary,
                self.state,
                outcome.state,
                outcome.reason,
                outcome.reason_data,
            )
            self.since = window.boundary
        self.state = outcome.state
        if outcome.decided:
            self._reason = lambda: outcome.reason
        return outcome, transition


def datapoints_by_period(
    samples: Iterable[tuple[float, float]], alarm: AlarmDefinition
) -> dict[int, Datapoint]:
    """The alarm's datapoints keyed by period index (start // period); the same grouping as
    rightsizer.metrics.store.aggregate, keyed for lookups by index."""
    period = alarm.period
    groups: dict[int, list[float]] = defaultdict(list)
    for timestamp, value in samples:
        groups[math.floor(timestamp / period)].append(value)
    stat = alarm.statistic.of
    return {i: Datapoint(i * period, stat(values), len(values)) for i, values in groups.items()}


def window_at(alarm: AlarmDefinition, points: Mapping[int, Datapoint], boundary: int) -> Window:
    """The evaluation range ending at period index `boundary` (exclusive)."""
    first = boundary - alarm.evaluation_range
    periods = tuple(points.get(i) for i in range(first, boundary))
    return Window(boundary * alarm.period, alarm.period, periods)


def boundaries(period: int, start: float, end: float) -> range:
    """Period indexes of the boundaries from `start` to `end` inclusive (start rounded up,
    end rounded down to a boundary)."""
    first, last = math.ceil(start / period), math.floor(end / period)
    if last - first + 1 > MAX_BOUNDARIES:
        raise ValueError(f"{last - first + 1} evaluations; at most {MAX_BOUNDARIES}")
    return range(first, last + 1)


def evaluate_series(
    alarm: AlarmDefinition,
    samples: Iterable[tuple[float, float]],
    start: float | None = None,
    end: float | None = None,
    *,
    on_transition: Callable[[Transition], None] | None = None,
) -> Timeline:
    """Evaluate at every boundary from `start` (default: the first sample's period start) to
    `end` (default: the last sample's period end), inclusive."""
    points = datapoints_by_period(samples, alarm)
    if start is None or end is None:
        if not points:
            return Timeline([], [])
        start = min(points) * alarm.period if start is None else start
        end = (max(points) + 1) * alarm.period if end is None else end
    return run(alarm, points, boundaries(alarm.period, start, end), on_transition=on_transition)


def run(
    alarm: AlarmDefinition,
    points: Mapping[int, Datapoint],
    indexes: Iterable[int],
    *,
    on_transition: Callable[[Transition], None] | None = None,
) -> Timeline:
    """Step a fresh Tracker through the boundaries `indexes` (period indexes, ascending)."""
    tracker = Tracker(alarm)
    evaluations: list[EvaluationRecord] = []
    transitions: list[Transition] = []
    for index in indexes:
        window = window_at(alarm, points, index)
        outcome, transition = tracker.step(window)
        evaluations.append(EvaluationRecord(window.boundary, outcome))
        if transition is not None:
            transitions.append(transition)
            if on_transition is not None:
                on_transition(transition)
    return Timeline(evaluations, transitions)
