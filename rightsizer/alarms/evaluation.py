"""The engine: one evaluation of one alarm at one period boundary. Pure; no clock, no I/O.

The rules are those of alarm-semantics.md, in this order:
1. The evaluation range holds the N + 2 most recent periods. If at least N of them have a real
   datapoint, the N most recent real datapoints decide: ALARM when at least M breach, else OK.
   TreatMissingData plays no part.
2. Otherwise the N most recent periods (the window) decide, their missing periods filled:
   - breaching / notBreaching: a missing period counts as bad / good; then as in 1.
   - missing: every period of the range missing -> INSUFFICIENT_DATA. Otherwise on the real
     datapoints of the window: ALARM when at least M breach; OK when ALARM can no longer be
     reached (even with every missing period of the window breaching, fewer than M would);
     ALARM by CloudWatch's rule against premature transitions (the oldest breaching datapoint
     of the window is at least M periods old and every newer one breaches or is missing: the
     user guide's `- - X - -` with N = M = 3); else the state stays as it was.
   - ignore: as missing, except that a range with no datapoint keeps the state too, and the
     rule against premature transitions does not apply (the guide's table keeps the state).
A kept state keeps its reason (the alarm's StateReason changes only on a decision).

Reasons are worded only when read: a replay evaluates thousands of boundaries and reads the
reasons of a few transitions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rightsizer.alarms import reason as reasons
from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.state import AlarmState, TreatMissingData
from rightsizer.metrics.store import Datapoint


@dataclass(frozen=True)
class Window:
    """The evaluation range at `boundary`: one entry per period, oldest first, None = missing.

    `periods[-1]` is the period [boundary - period, boundary)."""

    boundary: float
    period: int
    periods: tuple[Datapoint | None, ...]

    def start_of(self, index: int) -> float:
        """Start time of `periods[index]`."""
        return self.boundary - (len(self.periods) - index) * self.period


Explanation = Callable[[], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Evaluation:
    """The outcome at one boundary; `decided` is False when the data left the state as it was.
    `reason` and `reason_data` are worded on first use."""

    state: AlarmState
    explain: Explanation = field(repr=False, compare=False)
    decided: bool = True

    @cached_property
    def _explained(self) -> tuple[str, dict[str, Any]]:
        return self.explain()

    @property
    def reason(self) -> str:
        return self._explained[0]

    @property
    def reason_data(self) -> dict[str, Any]:
        return self._explained[1]


def evaluate(
    alarm: AlarmDefinition,
    window: Window,
    previous: AlarmState,
    previous_reason: str | Callable[[], str],
    *,
    query_time: float | None = None,
) -> Evaluation:
    """Apply the rules above; `query_time` (default: the boundary) goes into the reason data.
    `previous_reason` (or a function giving it) is the reason a kept state keeps."""
    judge = _Judge(alarm, window, query_time if query_time is not None else window.boundary)
    n = alarm.evaluation_periods
    real = [(i, p) for i, p in enumerate(window.periods) if p is not None]
    if len(real) >= n:
        return judge.on_real(real[-n:], out_of=n)
    recent = list(enumerate(window.periods))[-n:]
    treat = alarm.treat_missing_data
    if treat in (TreatMissingData.BREACHING, TreatMissingData.NOT_BREACHING):
        return judge.filled(recent)
    if not real and treat is TreatMissingData.MISSING:
        return Evaluation(
            AlarmState.INSUFFICIENT_DATA, lambda: (reasons.insufficient(n), judge.data(recent))
        )
    decided = judge.partial(recent) if real else None
    if decided is not None:
        return decided
    old = previous_reason if callable(previous_reason) else (lambda: str(previous_reason))
    return Evaluation(previous, lambda: (old(), judge.data(recent)), decided=False)


class _Judge:
    """Counts, decides and words one evaluation (a helper of `evaluate`)."""

    def __init__(self, alarm: AlarmDefinition, window: Window, query_time: float) -> None:
        self.alarm = alarm
        self.window = window
        self.query_time = query_time

    def breaches(self, point: Datapoint) -> bool:
        return self.alarm.comparison.breaches(point.value, self.alarm.threshold)

    def data(self, evaluated: Sequence[tuple[int, Datapoint | None]]) -> dict[str, Any]:
        return reasons.reason_data(
            statistic=self.alarm.statistic.name,
            period=self.alarm.period,
            threshold=self.alarm.threshold,
            query_time=self.query_time,
            evaluated=[(self.window.start_of(i), p) for i, p in evaluated],
        )

    def decide(
        self, evaluated: Sequence[tuple[int, Datapoint | None]], to_alarm: bool, out_of: int
    ) -> Evaluation:
        """A decision on real datapoints, worded `k out of the last out_of datapoints`."""
        alarm = self.alarm

        def explain() -> tuple[str, dict[str, Any]]:
            points = [p for _, p in evaluated if p is not None]
            side = [p for p in points if self.breaches(p) == to_alarm]
            needed = (
                alarm.datapoints_to_alarm
                if to_alarm
                else alarm.evaluation_periods - alarm.datapoints_to_alarm + 1
            )
            text = reasons.crossed(
                side,
                out_of,
                to_alarm=to_alarm,
                operator=alarm.comparison,
                threshold=alarm.threshold,
                needed=needed,
            )
            return text, self.data(evaluated)

        return Evaluation(AlarmState.ALARM if to_alarm else AlarmState.OK, explain)

    def on_real(self, evaluated: list[tuple[int, Datapoint]], out_of: int) -> Evaluation:
        breaching = sum(self.breaches(p) for _, p in evaluated)
        return self.decide(evaluated, breaching >= self.alarm.datapoints_to_alarm, out_of)

    def filled(self, recent: list[tuple[int, Datapoint | None]]) -> Evaluation:
        """breaching / notBreaching: missing periods of the window count as bad / good."""
        alarm = self.alarm
        bad_fill = alarm.treat_missing_data is TreatMissingData.BREACHING
        points = [p for _, p in recent if p is not None]
        missing = len(recent) - len(points)
        breaching = sum(self.breaches(p) for p in points) + (missing if bad_fill else 0)
        to_alarm = breaching >= alarm.datapoints_to_alarm

        def explain() -> tuple[str, dict[str, Any]]:
            side = [p for p in points if self.breaches(p) == to_alarm]
            # No real datapoint agrees with the outcome: the fill decided; name the real ones.
            shown, shown_breaching = (side, to_alarm) if side else (points, not to_alarm)
            text = reasons.filled(
                shown,
                missing,
                breaching_side=shown_breaching,
                operator=alarm.comparison,
                threshold=alarm.threshold,
                treat=alarm.treat_missing_data,
            )
            return text, self.data(recent)

        return Evaluation(AlarmState.ALARM if to_alarm else AlarmState.OK, explain)

    def partial(self, recent: list[tuple[int, Datapoint | None]]) -> Evaluation | None:
        """missing / ignore with some real datapoints: decide when they suffice, else None."""
        points = [p for _, p in recent if p is not None]
        missing = len(recent) - len(points)
        breaching = sum(self.breaches(p) for p in points)
        m = self.alarm.datapoints_to_alarm
        real = [(i, p) for i, p in recent if p is not None]
        if breaching >= m:
            return self.decide(real, True, len(real))
        if breaching + missing < m:
            return self.decide(real, False, len(real))
        if self.alarm.treat_missing_data is TreatMissingData.MISSING and self.premature(recent):
            return self.decide(real, True, len(real))
        return None

    def premature(self, recent: list[tuple[int, Datapoint | None]]) -> bool:
        """CloudWatch's rule against premature transitions: the oldest breaching datapoint of
        the window is at least M periods old (the newest period is 1 old) and every newer
        datapoint breaches or is missing."""
        ages = range(len(recent), 0, -1)  # oldest first, like `recent`
        for age, (_, point) in zip(ages, recent, strict=True):
            if point is not None and self.breaches(point):
                newer = [p for _, p in recent[len(recent) - age + 1 :] if p is not None]
                return age >= self.alarm.datapoints_to_alarm and all(map(self.breaches, newer))
        return False
