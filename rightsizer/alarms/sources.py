"""Where alarm definitions come from: PutMetricAlarm JSON files and `[[alarm]]` tables of
rightsizer.toml (same field names).

    alarms = load_alarms([Path("cpu.json")])              # files given with --alarm
    alarms = load_alarms([], config_file=None)            # else rightsizer.toml's [[alarm]]

Errors name the field and where it was written: `Threshold: expected a finite number, got
'20' (in cpu.json)`, `Period: ... (in rightsizer.toml: alarm[1])`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.config import find_config_file, read_config_file
from rightsizer.errors import AlarmDefinitionError, UsageError
from rightsizer.json_document import loads
from rightsizer.metrics.names import (
    CPU_UTILIZATION,
    DEFAULT_SERVICE,
    NAMESPACE,
    SERVICE_DIMENSION,
)

MAX_DEFINITION_BYTES = 1024 * 1024


def load_alarms(
    files: Sequence[Path],
    config_file: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> list[AlarmDefinition]:
    """The alarms of `files`; without files, those of the settings file (flag, then
    RIGHTSIZER_CONFIG, then ./rightsizer.toml). Names must be unique across all of them."""
    if files:
        return unique([alarm for path in files for alarm in load_definition_file(path)])
    env = os.environ if env is None else env
    path, label = find_config_file(config_file, env, cwd or Path.cwd())
    if path is None:
        raise UsageError(
            "no alarms: give --alarm FILE or write [[alarm]] tables in rightsizer.toml"
        )
    alarms = alarms_from_config(read_config_file(path, label), label)
    if not alarms:
        raise UsageError(f"{label}: no [[alarm]] tables; add one or give --alarm FILE")
    return alarms


# The seed's CPU alarm threshold, in percent: the figure the demo compares its answer with.
SEED_THRESHOLD = 20.0


def seed_alarm(
    period: int = 60, actions: Sequence[str] = ("log",), name: str = "uploader-cpu-high"
) -> AlarmDefinition:
    """The seed's alarm: service CPUUtilization Average > 20 %, 1 of 1 (the default of the
    bundled scenario; the demo uses a 10 s period to stay short)."""
    return AlarmDefinition.from_json(
        {
            "AlarmName": name,
            "AlarmDescription": "The seed's alarm: service CPU above 20 % for one period",
            "Namespace": NAMESPACE,
            "MetricName": CPU_UTILIZATION,
            "Dimensions": [{"Name": SERVICE_DIMENSION, "Value": DEFAULT_SERVICE}],
            "Statistic": "Average",
            "Period": period,
            "EvaluationPeriods": 1,
            "Threshold": SEED_THRESHOLD,
            "ComparisonOperator": "GreaterThanThreshold",
            "AlarmActions": list(actions),
            "OKActions": list(actions),
        }
    )


def load_definition_file(path: Path) -> list[AlarmDefinition]:
    """The alarms of a JSON file: one PutMetricAlarm object, or a list of them."""
    try:
        if path.stat().st_size > MAX_DEFINITION_BYTES:
            raise AlarmDefinitionError(str(path), "larger than 1 MiB; not an alarm definition")
        document = loads(path.read_text(encoding="utf-8"))  # too deep is bad JSON too
    except FileNotFoundError:
        raise AlarmDefinitionError(str(path), "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AlarmDefinitionError(str(path), f"cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise AlarmDefinitionError(
            str(path), f"not valid JSON ({exc.msg} at line {exc.lineno}); fix the file"
        ) from None
    if isinstance(document, list):
        return unique([_parse(item, f"{path}[{i}]") for i, item in enumerate(document)])
    return [_parse(document, str(path))]


def alarms_from_config(document: Mapping[str, Any], label: str) -> list[AlarmDefinition]:
    """The `[[alarm]]` tables of a parsed rightsizer.toml (`label` names the file in errors)."""
    tables = document.get("alarm", [])
    if not isinstance(tables, list):
        raise AlarmDefinitionError(f"{label}: alarm", "write alarms as [[alarm]] tables")
    return unique([_parse(t, f"{label}: alarm[{i}]") for i, t in enumerate(tables)])


def _parse(item: Any, where: str) -> AlarmDefinition:
    if not isinstance(item, dict):
        raise AlarmDefinitionError(where, "expected a PutMetricAlarm JSON object")
    try:
        return AlarmDefinition.from_json(item)
    except AlarmDefinitionError as exc:
        raise AlarmDefinitionError(exc.field, f"{exc.message} (in {where})") from None


def unique(alarms: list[AlarmDefinition]) -> list[AlarmDefinition]:
    """The alarms as given, refusing two with one AlarmName (their histories would mix)."""
    seen: set[str] = set()
    for alarm in alarms:
        if alarm.name in seen:
            raise AlarmDefinitionError("AlarmName", f"{alarm.name!r} is defined twice")
        seen.add(alarm.name)
    return alarms
