"""The run's coupling to rightsizer.alarms: which alarms to watch, and watching them live.

Alarms come from `--alarm FILE` (repeatable) and the `[[alarm]]` tables of rightsizer.toml;
with neither, a run of the bundled uploader on its own fleet watches the seed's alarm
(service CPUUtilization Average > 20 % over one minute). Bad definitions are usage errors found
before anything starts. While the load runs, `LiveAlarms` evaluates them at each period
boundary, writes transitions into the run's metrics.db, runs their actions, and a `stop-run`
action asks the run to stop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rightsizer.alarms.actions import ActionRunner
from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.live import LiveAlarms
from rightsizer.alarms.sources import alarms_from_config, load_definition_file, unique
from rightsizer.alarms.state import AlarmState
from rightsizer.alarms.timeline import Transition
from rightsizer.config import find_config_file, read_config_file
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricStore

SEED_ALARM: dict[str, Any] = {
    "AlarmName": "uploader-cpu-high",
    "AlarmDescription": "The seed's alarm: service CPUUtilization Average > 20% for 1 minute",
    "Namespace": names.NAMESPACE,
    "MetricName": names.CPU_UTILIZATION,
    "Dimensions": [{"Name": names.SERVICE_DIMENSION, "Value": names.DEFAULT_SERVICE}],
    "Statistic": "Average",
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 20,
    "ComparisonOperator": "GreaterThanThreshold",
}


def select_alarms(
    files: Sequence[Path],
    config_file: Path | None,
    seed_default: bool,
    *,
    env: Mapping[str, str],
    cwd: Path,
) -> list[AlarmDefinition]:
    """Every alarm the run watches; AlarmDefinitionError (exit 2) names a bad field."""
    alarms: list[AlarmDefinition] = []
    for file in files:
        alarms.extend(load_definition_file(file))
    toml, label = find_config_file(config_file, env, cwd)
    if toml is not None:
        alarms.extend(alarms_from_config(read_config_file(toml, label), label))
    if not alarms and seed_default:
        alarms.append(AlarmDefinition.from_json(SEED_ALARM))
    return unique(alarms)


@dataclass
class AlarmWatch:
    """Live evaluation for one run; `start` after the store exists, `stop` after cooldown."""

    alarms: list[AlarmDefinition]
    note: Callable[[str], None]
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
            actions=ActionRunner(log=self.note),
        )
        self.live.start()

    def _on_transition(self, transition: Transition) -> None:
        self.transitions.append(
            {
                "alarm": transition.alarm_name,
                "time": transition.time,
                "from": transition.old_state.value,
                "to": transition.new_state.value,
            }
        )
        self.note(
            f"alarm {transition.alarm_name}: {transition.old_state.value} -> "
            f"{transition.new_state.value} ({transition.reason})"
        )

    def stop_reason(self) -> str | None:
        """Why an alarm asked the run to stop (its `stop-run` action), or None."""
        if self.live is None or not self.live.stop_requested.is_set():
            return None
        firing = [s.name for s in self.live.states() if s.state is AlarmState.ALARM]
        return "alarm " + (", ".join(firing) or "stop-run action")

    def stop(self) -> list[dict[str, Any]]:
        """Stop evaluating; the alarms' final states, for the manifest."""
        if self.live is None:
            return []
        self.live.stop()
        return [
            {"name": s.name, "state": s.state.value, "since": s.since, "reason": s.reason}
            for s in self.live.states()
        ]
