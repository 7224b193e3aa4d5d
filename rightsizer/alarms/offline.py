"""`rightsizer alarm evaluate` as a library call: a definition and raw samples in, the JSON
document of alarm-semantics.md out.

    {"evaluations": [{"time": ISO, "state": S, "reason": "..."}],
     "transitions": [{"time": ISO, "from": S, "to": S, "reason": "..."}]}
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.points import iso, parse_time, read_points
from rightsizer.alarms.sources import load_definition_file
from rightsizer.alarms.timeline import Timeline, evaluate_series
from rightsizer.errors import AlarmDefinitionError, UsageError


def evaluate_offline(
    alarm: AlarmDefinition,
    samples: Sequence[tuple[float, float]],
    start: float | None = None,
    end: float | None = None,
) -> dict[str, Any]:
    """Evaluate at every boundary from `start` to `end` (defaults: the samples' first period
    start and last period end) and shape the result as the spec's JSON document."""
    if not samples and (start is None or end is None):
        raise UsageError("no samples to evaluate; add rows or give both --start and --end")
    if start is not None and end is not None and start > end:
        raise UsageError("--start: after --end; give a start before the end")
    try:
        timeline = evaluate_series(alarm, samples, start, end)
    except ValueError as exc:
        raise UsageError(f"--end: too many periods to evaluate ({exc}); narrow the range") from None
    return document(timeline)


def document(timeline: Timeline) -> dict[str, Any]:
    """The spec's JSON shape of a timeline."""
    return {
        "evaluations": [
            {"time": iso(e.time), "state": e.state.value, "reason": e.reason}
            for e in timeline.evaluations
        ],
        "transitions": [
            {
                "time": iso(t.time),
                "from": t.old_state.value,
                "to": t.new_state.value,
                "reason": t.reason,
            }
            for t in timeline.transitions
        ],
    }


def evaluate_files(
    alarm_path: Path, points_path: Path, start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    """The whole `alarm evaluate` command: read both files, check them, evaluate."""
    alarms = load_definition_file(alarm_path)
    if len(alarms) != 1:
        raise AlarmDefinitionError(str(alarm_path), "expected one alarm definition (a JSON object)")
    samples = read_points(points_path)
    first = None if start is None else parse_time(start, "--start")
    last = None if end is None else parse_time(end, "--end")
    return evaluate_offline(alarms[0], samples, first, last)
