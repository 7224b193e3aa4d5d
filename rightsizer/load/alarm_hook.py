"""The run's coupling to rightsizer.alarms: which alarms to watch, and watching them live.

Alarms come from `--alarm FILE` (repeatable) and the `[[alarm]]` tables of rightsizer.toml;
with neither, a run of the bundled uploader on its own fleet watches the seed's alarm
(rightsizer.alarms.sources.seed_alarm: service CPUUtilization Average > 20 % over one minute).
Bad definitions are usage errors found before anything starts. While the load runs,
`LiveAlarms` evaluates them at each period boundary (client-side series once the runner's
watermark has passed it), writes transitions into the run's metrics.db, runs their actions
(each outcome, ran or failed and why, into the table alarm_actions there), and a `stop-run`
action asks the run to stop.

After the load, the cooldown lasts until every alarm has been evaluated on at least one whole
evaluation range that began after the load ended (`cooldown_wish`), so the run shows whether
it went back to OK; at most COOLDOWN_CAP seconds, and not at all with an explicit --cooldown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from rightsizer.alarms import history
from rightsizer.alarms.actions import ActionRunner
from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.live import SETTLE, AlarmStatus, LiveAlarms
from rightsizer.alarms.sources import (
    alarms_from_config,
    load_definition_file,
    seed_alarm,
    unique,
)
from rightsizer.alarms.state import AlarmState
from rightsizer.alarms.timeline import Transition
from rightsizer.config import find_config_file, read_config_file
from rightsizer.metrics.store import MetricStore
from rightsizer.stop import Stop, StopReason

COOLDOWN_CAP = 600.0  # seconds after the load: a day-long alarm period does not hold the run


def select_alarms(
    files: Sequence[Path],
    config_file: Path | None,
    *,
    env: Mapping[str, str],
    cwd: Path,
) -> list[AlarmDefinition]:
    """Every alarm the user gave the run (files, then rightsizer.toml's [[alarm]] tables);
    AlarmDefinitionError (exit 2) names a bad field."""
    alarms: list[AlarmDefinition] = []
    for file in files:
        alarms.extend(load_definition_file(file))
    toml, label = find_config_file(config_file, env, cwd)
    if toml is not None:
        alarms.extend(alarms_from_config(read_config_file(toml, label), label))
    return unique(alarms)


# CloudWatch's periods for a high-resolution alarm and the first standard one, in seconds.
_PERIODS = (10, 30, 60)


def default_alarm(step_time: float) -> AlarmDefinition:
    """The alarm a run of the bundled uploader watches when the user gave none: the seed's
    (CPU > 20 %), with the longest period of 10, 30 or 60 s that fits in one step, so it
    judges each step on its own. No actions: the run prints every transition itself. It never
    lengthens the run (the caller does not wait for it in the cooldown)."""
    period = max([p for p in _PERIODS if p <= step_time] or [_PERIODS[0]])
    return seed_alarm(period=period, actions=())


def after_load_boundary(alarm: AlarmDefinition, load_end: float) -> float:
    """The first boundary whose evaluation reads only periods that began at or after
    `load_end`: the first boundary >= load_end + Period x EvaluationPeriods."""
    span = alarm.period * alarm.evaluation_periods
    return float(math.ceil((load_end + span) / alarm.period) * alarm.period)


@dataclass(frozen=True)
class CooldownWish:
    """Until when the cooldown must last for `alarm` (the last one to get there), and
    whether COOLDOWN_CAP cut it (`needed` is then later than `until`)."""

    until: float
    needed: float
    alarm: AlarmDefinition

    @property
    def capped(self) -> bool:
        return self.until < self.needed

    def describe(self, load_end: float) -> str:
        a = self.alarm
        text = (
            f"cooling down at least until {_clock(self.until)} ({self.until - load_end:.0f} s "
            f"after the load): by then {a.name} ({a.period} s x {a.evaluation_periods}) has been "
            "evaluated on periods that all began after the load"
        )
        if self.capped:
            text = (
                f"cooling down at least until {_clock(self.until)} (capped at "
                f"{COOLDOWN_CAP:.0f} s); "
                f"{a.name} ({a.period} s x {a.evaluation_periods}) would need until "
                f"{_clock(self.needed)} to be evaluated on periods after the load"
            )
        return text


def cooldown_wish(
    alarms: Sequence[AlarmDefinition],
    load_end: float,
    *,
    settle: float = SETTLE,
    cap: float = COOLDOWN_CAP,
) -> CooldownWish | None:
    """When every alarm has been evaluated after the load (see the module docstring), plus
    `settle` for the last evaluation; None without alarms."""
    if not alarms:
        return None
    last = max(alarms, key=lambda a: after_load_boundary(a, load_end))
    needed = after_load_boundary(last, load_end) + settle
    return CooldownWish(min(needed, load_end + cap), needed, last)


def _clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%H:%M:%S UTC")


@dataclass
class AlarmWatch:
    """Live evaluation for one run; `start` after the store exists, `stop` after cooldown.
    `extend_cooldown` False: the user fixed the cooldown (--cooldown); no wish then."""

    alarms: list[AlarmDefinition]
    note: Callable[[str], None]
    extend_cooldown: bool = True
    live: LiveAlarms | None = None
    transitions: list[dict[str, Any]] = field(default_factory=list)

    def start(self, store: MetricStore, db_path: Path) -> None:
        if not self.alarms:
            return
        self.live = LiveAlarms(
            self.alarms,
            store,
            db_path=db_path,
            on_transition=self._on_transition,
            # Every action's outcome goes into the run's metrics.db beside the transitions.
            actions=ActionRunner(log=self.note, on_result=partial(history.append_action, db_path)),
            wait_for_client_series=True,
        )
        self.live.start()

    def client_series_complete(self, until: float) -> None:
        """The load runner's watermark (LoadHooks.client_series_complete)."""
        if self.live is not None:
            self.live.client_series_complete(until)

    def cooldown_until(self, load_end: float) -> float | None:
        """LoadHooks.cooldown_until: said on the console when there is a wish."""
        if not self.extend_cooldown:
            return None
        wish = cooldown_wish(self.alarms, load_end)
        if wish is None:
            return None
        self.note(wish.describe(load_end))
        return wish.until

    def _on_transition(self, transition: Transition) -> None:
        self.transitions.append(
            {
                "alarm": transition.alarm_name,
                "time": transition.time,
                "from": transition.old_state.value,
                "to": transition.new_state.value,
            }
        )
        alarm = next(a for a in self.alarms if a.name == transition.alarm_name)
        if "log" in alarm.actions_for(transition.new_state.value):
            return  # its `log` action says it already
        self.note(
            f"alarm {transition.alarm_name}: {transition.old_state.value} -> "
            f"{transition.new_state.value} ({transition.reason})"
        )

    def states(self) -> list[AlarmStatus]:
        """Every alarm's state now (empty before the run starts them)."""
        return self.live.states() if self.live is not None else []

    def stop_reason(self) -> Stop | None:
        """The alarms that asked the run to stop (their `stop-run` action), or None."""
        if self.live is None or not self.live.stop_requested.is_set():
            return None
        firing = tuple(s.name for s in self.states() if s.state is AlarmState.ALARM)
        return Stop(StopReason.ALARM, firing)

    def stop(self) -> list[dict[str, Any]]:
        """Stop evaluating; the alarms' final states, for the manifest."""
        if self.live is None:
            return []
        self.live.stop()
        return [
            {"name": s.name, "state": s.state.value, "since": s.since, "reason": s.reason}
            for s in self.states()
        ]
