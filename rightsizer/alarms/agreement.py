"""Where CloudWatch's evaluation of a deployed alarm and rightsizer's of the same datapoints
agree, and where they differ, transition by transition. CloudWatch is the reference.

    rows = compare(cloudwatch_items, our_transitions, alarm, points)
    [r.note for r in rows if not r.agree]

A CloudWatch transition agrees with one of rightsizer's to the same state within TOLERANCE
periods (CloudWatch evaluates a little after each boundary, and stamps its history then).
Each difference is explained from CloudWatch's own reason data (the datapoints it evaluated):
a datapoint rightsizer's series does not have (published late, after the run read it, or
never), or one whose value differs (late samples folded in after the read); otherwise the
datapoints matched and the note says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.history import HistoryItem
from rightsizer.alarms.timeline import Transition
from rightsizer.metrics.store import Datapoint

AGREEMENT_FILE = "cloudwatch_alarm.json"  # in the run directory (run --deployed-alarm)
TOLERANCE = 2  # periods
_REL = 1e-6


@dataclass(frozen=True)
class Agreement:
    """One transition, as each side saw it (None: that side did not make it)."""

    new_state: str
    cloudwatch_time: float | None
    rightsizer_time: float | None
    note: str

    @property
    def agree(self) -> bool:
        return self.cloudwatch_time is not None and self.rightsizer_time is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "new_state": self.new_state,
            "cloudwatch_time": self.cloudwatch_time,
            "rightsizer_time": self.rightsizer_time,
            "agree": self.agree,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Agreement:
        return cls(
            str(raw["new_state"]), raw.get("cloudwatch_time"), raw.get("rightsizer_time"),
            str(raw.get("note", "")),
        )  # fmt: skip


def compare(
    cloudwatch: Sequence[HistoryItem],
    ours: Sequence[Transition],
    alarm: AlarmDefinition,
    points: Mapping[int, Datapoint],
) -> list[Agreement]:
    """Pair CloudWatch's transitions with rightsizer's (same state, within TOLERANCE periods);
    `points` are rightsizer's datapoints by period index (timeline.datapoints_by_period)."""
    window = TOLERANCE * alarm.period
    unmatched = list(ours)
    rows: list[Agreement] = []
    for item in sorted(cloudwatch, key=lambda i: i.timestamp):
        match = next(
            (
                t for t in unmatched
                if t.new_state.value == item.new_state and abs(t.time - item.timestamp) <= window
            ),
            None,
        )  # fmt: skip
        if match is not None:
            unmatched.remove(match)
            lag = item.timestamp - match.time
            note = f"agree; CloudWatch stamped it {lag:+.0f} s from rightsizer's boundary"
            rows.append(Agreement(item.new_state, item.timestamp, match.time, note))
        else:
            note = _explain(item, alarm, points)
            rows.append(Agreement(item.new_state, item.timestamp, None, note))
    for transition in unmatched:
        note = (
            f"CloudWatch made no such transition within {TOLERANCE} periods: its datapoints "
            "then differed from the ones rightsizer read (see its reason data), or its state "
            "was already " + transition.new_state.value
        )
        rows.append(Agreement(transition.new_state.value, None, transition.time, note))
    return sorted(rows, key=lambda r: min(t for t in (r.cloudwatch_time, r.rightsizer_time)
                                          if t is not None))  # fmt: skip


def _explain(item: HistoryItem, alarm: AlarmDefinition, points: Mapping[int, Datapoint]) -> str:
    """Why rightsizer did not make CloudWatch's transition, from CloudWatch's reason data."""
    evaluated = item.reason_data.get("evaluatedDatapoints")
    if not isinstance(evaluated, list) or not evaluated:
        return (
            f"rightsizer did not go to {item.new_state} near then; CloudWatch's reason data "
            f"lists no datapoints ({item.reason or 'no reason given'})"
        )
    missing, differing = [], []
    for entry in evaluated:
        stamp, value = _stamp(entry.get("timestamp")), entry.get("value")
        if stamp is None:
            continue
        ours = points.get(math.floor(stamp / alarm.period))
        shown = datetime.fromtimestamp(stamp, UTC).strftime("%H:%M:%S")
        if ours is None:
            missing.append(shown)
        elif isinstance(value, int | float) and not math.isclose(ours.value, value, rel_tol=_REL):
            differing.append(f"{shown} CloudWatch {value:g}, rightsizer {ours.value:g}")
    if missing:
        return (
            f"rightsizer did not go to {item.new_state}: its series has no datapoint for "
            f"{', '.join(missing)} (published late, after the run read it, or never)"
        )
    if differing:
        return (
            f"rightsizer did not go to {item.new_state}: datapoints differ ({'; '.join(differing)})"
            " - samples that arrived after the run read them"
        )
    return (
        f"rightsizer did not go to {item.new_state} within {TOLERANCE} periods although the "
        "datapoints CloudWatch evaluated match its own: check the alarm definitions match"
    )


def _stamp(text: Any) -> float | None:
    """CloudWatch's reason-data timestamp (2026-11-27T14:03:00.000+0000) in epoch seconds."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class AlarmAgreement:
    """cloudwatch_alarm.json: the deployed alarm's transitions over a run next to rightsizer's
    evaluation of the datapoints the run recorded. `source` says where CloudWatch's side
    came from: "DescribeAlarmHistory", or "DescribeAlarms polls" when history was unavailable
    (`history_error` says why)."""

    alarm: str
    source: str
    rows: tuple[Agreement, ...]
    history_error: str | None = None
    polled: tuple[dict[str, Any], ...] = ()

    @property
    def agreed(self) -> int:
        return sum(r.agree for r in self.rows)

    def summary(self) -> str:
        return (
            f"{self.alarm}: CloudWatch ({self.source}) and rightsizer agree on {self.agreed} of "
            f"{len(self.rows)} transition(s)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "alarm": self.alarm,
            "source": self.source,
            "history_error": self.history_error,
            "agreed": self.agreed,
            "rows": [r.to_json() for r in self.rows],
            "polled": list(self.polled),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AlarmAgreement:
        return cls(
            str(raw["alarm"]),
            str(raw["source"]),
            tuple(Agreement.from_json(r) for r in raw.get("rows", [])),
            raw.get("history_error"),
            tuple(raw.get("polled", [])),
        )
