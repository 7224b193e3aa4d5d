"""Alarms evaluated while a run goes: at each period boundary once the period's samples are
all in the store, every transition written to the run's metrics.db and its actions run (their
outcomes written there too when the runner is LiveAlarms' own or has an `on_result` doing so).

    live = LiveAlarms(alarms, store, db_path=run.metrics_path, on_transition=print,
                      wait_for_client_series=True)
    live.start()          # a daemon thread (a greenlet under Locust's gevent)
    live.client_series_complete(t)   # the load runner, after each write: its watermark
    ...                   # the load runs; `live.stop_requested` is set by a stop-run action
    live.stop()           # evaluates what is due, then stops

When is a period complete? The fleet's samplers write each second's samples (stamped at its
middle) just after it ends, so a boundary of a server-side series is evaluated `settle` (0.3 s)
after it passes; the thread waits a little longer (up to `LATE_SAMPLES` past the boundary)
while the series has no sample yet in the second before it, so a sampler delayed on a busy
machine still has its last second counted (`waiting_for_samples`). The load runner writes
client-side series (rightsizer.alarms.watched_series.CLIENT_METRICS) once a second and seconds late
with workers; with `wait_for_client_series`, a boundary t of such a series is evaluated only
once the runner's watermark is >= t, so live sees the same periods a replay sees. Each
boundary costs one small query per series.

`evaluate_due(now)` is the deterministic core (tests drive it with their own clock): it
evaluates every boundary passed since the previous call whose data is complete, oldest first.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from rightsizer.alarms import history
from rightsizer.alarms.actions import ActionRunner
from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.sources import unique
from rightsizer.alarms.state import AlarmState
from rightsizer.alarms.timeline import Tracker, Transition, datapoints_by_period, window_at
from rightsizer.alarms.watched_series import is_client_side, series_key
from rightsizer.metrics.store import Datapoint, MetricKey, MetricStore

logger = logging.getLogger(__name__)
SETTLE = 0.3  # after a boundary, for the fleet's samples of the second before it to land
# Longest sleep of the evaluator between looks at the clock (a watermark that stops moving).
MAX_WAIT = 5.0
# How long past a boundary the thread waits for a late sampler's last second; after that the
# second counts as missing, as late data does in CloudWatch.
LATE_SAMPLES = 2.0
LAST_SECOND = 1.0
LATE_POLL = 0.05


@dataclass(frozen=True)
class AlarmStatus:
    """An alarm's state now; `since` is the boundary of its last transition (None: never)."""

    name: str
    state: AlarmState
    reason: str
    since: float | None


@dataclass(frozen=True)
class _Due:
    time: float
    alarm: int
    index: int  # period index of the boundary


class LiveAlarms:
    """Evaluates `alarms` on `store` at their period boundaries; see the module docstring."""

    def __init__(
        self,
        alarms: Sequence[AlarmDefinition],
        store: MetricStore,
        *,
        db_path: Path,
        clock: Callable[[], float] = time.time,
        settle: float = SETTLE,
        on_transition: Callable[[Transition], None] | None = None,
        actions: ActionRunner | None = None,
        wait_for_client_series: bool = False,
    ) -> None:
        if not 0 <= settle < 10:
            raise ValueError(f"settle must be within 0..10 s, got {settle}")
        self.alarms = unique(list(alarms))
        self._store = store
        self._db_path = db_path
        self._clock = clock
        self._settle = settle
        self._on_transition = on_transition
        self.actions = actions or ActionRunner(on_result=partial(history.append_action, db_path))
        self.stop_requested: threading.Event = self.actions.stop_requested
        self._keys = [series_key(a) for a in self.alarms]
        self._gated = [wait_for_client_series and is_client_side(k) for k in self._keys]
        self._watermark = -math.inf
        self._trackers = [Tracker(a) for a in self.alarms]
        self._changed: list[float | None] = [None] * len(self.alarms)
        created = clock()
        # The first evaluation is at the first boundary after creation.
        self._next = [math.floor(created / a.period) + 1 for a in self.alarms]
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        history.save_definitions(db_path, [(a.name, a.to_json()) for a in self.alarms])

    def evaluate_due(self, now: float) -> list[Transition]:
        """Evaluate every boundary <= `now` not yet evaluated (for a client-side series, also
        <= the watermark); return the transitions."""
        return self._evaluate(until=now, now=now)

    def waiting_for_samples(self, now: float) -> bool:
        """Whether the thread holds the evaluation due at `now`: a server-side boundary passed
        less than LATE_SAMPLES ago and its series has no sample in the second before it yet."""
        with self._lock:
            pending = [
                (self._next[i] * alarm.period, self._keys[i])
                for i, alarm in enumerate(self.alarms)
                if not self._gated[i]
            ]
        return any(
            boundary + self._settle <= now < boundary + LATE_SAMPLES
            and not self._store.samples(key, boundary - LAST_SECOND, boundary)
            for boundary, key in pending
        )

    def client_series_complete(self, until: float) -> None:
        """The load runner's watermark: every client-side sample stamped before `until` is in
        the store (math.inf: the load is over, nothing more comes). It never moves back; one
        writer (the runner) calls it."""
        if until > self._watermark:
            self._watermark = until
            self._wake.set()

    def states(self) -> list[AlarmStatus]:
        """Every alarm's current state, in definition order."""
        with self._lock:
            return [
                AlarmStatus(t.alarm.name, t.state, t.reason, since)
                for t, since in zip(self._trackers, self._changed, strict=True)
            ]

    def start(self) -> None:
        """Evaluate in a daemon thread until `stop()`."""
        if self._thread is not None:
            return
        self._halt.clear()
        self._thread = threading.Thread(target=self._loop, name="rightsizer-alarms", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, evaluate the boundaries due by now (the last one of a run is not
        lost to a race with the thread), and let queued actions finish (bounded)."""
        self._halt.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            now = self._clock()
            self._evaluate(until=now - self._settle, now=now)
        except Exception:
            logger.exception("the last alarm evaluation failed")
        self.actions.close()

    # -- internals ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while self.alarms and not self._halt.is_set():
            self._wake.clear()  # before reading the watermark: a later advance wakes the wait
            wait = self._next_wake() - self._clock()
            if wait > 0:
                self._wake.wait(min(wait, MAX_WAIT))
                continue
            try:
                now = self._clock()
                if self.waiting_for_samples(now):
                    self._halt.wait(LATE_POLL)
                    continue
                self._evaluate(until=now - self._settle, now=now)
            # The evaluator outlives a failing database write or callback; it says so.
            except Exception:
                logger.exception("alarm evaluation failed; retrying at the next boundary")
                self._halt.wait(1.0)

    def _next_wake(self) -> float:
        """When the next boundary can be evaluated: `settle` after it, or for a client-side
        series at once if the watermark has passed it (else when the watermark moves)."""
        wake = math.inf
        with self._lock:
            for i, alarm in enumerate(self.alarms):
                boundary = self._next[i] * alarm.period
                if not self._gated[i]:
                    wake = min(wake, boundary + self._settle)
                elif self._watermark >= boundary:
                    wake = min(wake, boundary)
        return wake

    def _evaluate(self, *, until: float, now: float) -> list[Transition]:
        """Evaluate the boundaries <= `until` (server-side) or <= min(now, watermark)."""
        with self._lock:
            due = self._due(until, min(now, self._watermark))
            if not due:
                return []
            samples = self._fetch(due)
            transitions = self._step_all(due, samples, now)
            # Only now are these boundaries done: a failed read is retried at the next wake-up.
            for d in due:
                self._next[d.alarm] = max(self._next[d.alarm], d.index + 1)
        if transitions:
            self._record(transitions)
        return transitions

    def _due(self, until: float, client_until: float) -> list[_Due]:
        due = []
        for i, alarm in enumerate(self.alarms):
            limit = client_until if self._gated[i] else until
            if limit == -math.inf:
                continue
            last = math.floor(limit / alarm.period)
            due += [_Due(b * alarm.period, i, b) for b in range(self._next[i], last + 1)]
        return sorted(due, key=lambda d: (d.time, d.alarm))

    def _fetch(self, due: list[_Due]) -> dict[MetricKey, list[tuple[float, float]]]:
        """One query per series, covering every range the due evaluations need."""
        spans: dict[MetricKey, tuple[float, float]] = {}
        for d in due:
            alarm = self.alarms[d.alarm]
            lo, hi = d.time - alarm.evaluation_range * alarm.period, d.time
            old = spans.get(self._keys[d.alarm], (lo, hi))
            spans[self._keys[d.alarm]] = (min(old[0], lo), max(old[1], hi))
        return {key: self._store.samples(key, lo, hi) for key, (lo, hi) in spans.items()}

    def _step_all(
        self, due: list[_Due], samples: dict[MetricKey, list[tuple[float, float]]], now: float
    ) -> list[Transition]:
        transitions = []
        # Alarms on one series with one period and statistic share their datapoints; the
        # fetched samples cover every range due, and a window only reads its own periods.
        points: dict[tuple[MetricKey, int, str], dict[int, Datapoint]] = {}
        for d in due:
            alarm, key = self.alarms[d.alarm], self._keys[d.alarm]
            shared = (key, alarm.period, alarm.statistic.name)
            if shared not in points:
                points[shared] = datapoints_by_period(samples[key], alarm)
            _, transition = self._trackers[d.alarm].step(
                window_at(alarm, points[shared], d.index), query_time=now
            )
            if transition is not None:
                self._changed[d.alarm] = transition.time
                transitions.append(transition)
        return transitions

    def _record(self, transitions: list[Transition]) -> None:
        """History first (the record), then callbacks and actions."""
        try:
            history.append(self._db_path, [t.as_history_item() for t in transitions])
        except sqlite3.Error:
            logger.exception("cannot write alarm history to %s", self._db_path)
        by_name = {a.name: a for a in self.alarms}
        for transition in transitions:
            if self._on_transition is not None:
                self._on_transition(transition)
            self.actions.on_transition(by_name[transition.alarm_name], transition)
