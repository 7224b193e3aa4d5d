"""The deployed alarm's own record of a run: its state transitions (DescribeAlarmHistory) and
its state polled during the run (DescribeAlarms), for comparison with rightsizer's evaluation.

    items = alarm_history(connection, "cpu-high", start, end)    # HistoryItem per transition
    with StatePoller(connection, "cpu-high", every=60) as poller:
        ...                                                      # the run
    poller.states                                                # PolledState per poll

History items come back as rightsizer.alarms.history.HistoryItem, the same shape rightsizer's
own alarm history has, so both sides compare field by field. Where history is unavailable
(no cloudwatch:DescribeAlarmHistory permission, an emulator without it), the polled states
still show each state change, to within one poll.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from rightsizer.alarms.history import HistoryItem
from rightsizer.aws.connection import AwsConnection, aws_errors
from rightsizer.errors import RightsizerError


def alarm_history(
    connection: AwsConnection, name: str, start: float, end: float
) -> list[HistoryItem]:
    """The alarm's state transitions stamped within [start, end], oldest first, following
    NextToken."""
    pages = (
        connection.client("cloudwatch")
        .get_paginator("describe_alarm_history")
        .paginate(
            AlarmName=name,
            HistoryItemType="StateUpdate",
            StartDate=datetime.fromtimestamp(start, UTC),
            EndDate=datetime.fromtimestamp(end, UTC),
            ScanBy="TimestampAscending",
        )
    )
    with aws_errors("DescribeAlarmHistory"):
        items = [_item(name, raw) for reply in pages for raw in reply.get("AlarmHistoryItems", [])]
    return sorted(items, key=lambda i: i.timestamp)


def _item(name: str, raw: dict[str, Any]) -> HistoryItem:
    """One StateUpdate item; its HistoryData is JSON text with oldState and newState."""
    try:
        data = json.loads(raw.get("HistoryData") or "{}")
        old, new = data["oldState"], data["newState"]
        reason_data = new.get("stateReasonData") or {}
        return HistoryItem(
            name,
            raw["Timestamp"].timestamp(),
            str(old["stateValue"]),
            str(new["stateValue"]),
            str(new.get("stateReason", "")),
            reason_data if isinstance(reason_data, dict) else {},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RightsizerError(
            f"DescribeAlarmHistory: an item of {name} is not a state update ({exc})"
        ) from None


@dataclass(frozen=True)
class PolledState:
    """The alarm's state when polled at `time` (epoch seconds); `updated` is CloudWatch's
    StateUpdatedTimestamp."""

    time: float
    state: str
    reason: str
    updated: float | None

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "state": self.state, "reason": self.reason,
                "updated": self.updated}  # fmt: skip


def poll_state(connection: AwsConnection, name: str, now: float) -> PolledState | None:
    """DescribeAlarms for one alarm: its state now, or None when there is no such alarm."""
    with aws_errors("DescribeAlarms"):
        reply = connection.client("cloudwatch").describe_alarms(AlarmNames=[name])
    found = [a for a in reply.get("MetricAlarms", []) if a.get("AlarmName") == name]
    if not found:
        return None
    alarm = found[0]
    updated = alarm.get("StateUpdatedTimestamp")
    return PolledState(
        now,
        str(alarm.get("StateValue", "")),
        str(alarm.get("StateReason", "")),
        updated.timestamp() if isinstance(updated, datetime) else None,
    )


class StatePoller:
    """Polls the deployed alarm's state every `every` seconds in a thread, from `start()`
    (or entering) to `stop()`; a failed poll is counted, never raised into the run."""

    def __init__(self, connection: AwsConnection, name: str, every: float) -> None:
        self.connection = connection
        self.name = name
        self.every = every
        self.states: list[PolledState] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="alarm-poller", daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                state = poll_state(self.connection, self.name, datetime.now(UTC).timestamp())
            except RightsizerError as exc:
                self.failures.append(str(exc))
            else:
                if state is not None:
                    self.states.append(state)
            self._stop.wait(self.every)

    def start(self) -> StatePoller:
        self._thread.start()
        return self

    def stop(self) -> list[PolledState]:
        """End polling (after the poll in flight); the states polled."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        return list(self.states)

    def __enter__(self) -> StatePoller:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def transitions_from_polls(name: str, polled: list[PolledState]) -> list[HistoryItem]:
    """State changes between consecutive polls, stamped with CloudWatch's StateUpdatedTimestamp
    (else the poll's time): the history where DescribeAlarmHistory is unavailable. The reason
    data is not in DescribeAlarms' answer as a document, so it is left empty."""
    items = []
    for before, after in itertools.pairwise(polled):
        if after.state != before.state:
            stamp = after.updated if after.updated is not None else after.time
            items.append(HistoryItem(name, stamp, before.state, after.state, after.reason, {}))
    return items
