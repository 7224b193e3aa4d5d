"""Alarm history kept in a run's metrics.db: every definition, every state transition and
what each action of a transition did.

The report and `alarm replay` read it; the live evaluator and its action runner write it.

    alarm_definitions(alarm_name PRIMARY KEY, definition JSON)   PutMetricAlarm JSON
    alarm_history(alarm_name, ts, old_state, new_state, reason, reason_data JSON)
    alarm_actions(alarm_name, transition_ts, state, action, ok, detail, ts)
        one row per action run (or skipped) on a transition into `state`; `ts` is when its
        outcome was known, `ok` 0 with `detail` saying why when it failed
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rightsizer.metrics.store import MetricStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alarm_definitions (
    alarm_name TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alarm_history (
    alarm_name TEXT NOT NULL,
    ts REAL NOT NULL,
    old_state TEXT NOT NULL,
    new_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    reason_data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_history_by_time ON alarm_history (alarm_name, ts);
CREATE TABLE IF NOT EXISTS alarm_actions (
    alarm_name TEXT NOT NULL,
    transition_ts REAL NOT NULL,
    state TEXT NOT NULL,
    action TEXT NOT NULL,
    ok INTEGER NOT NULL,
    detail TEXT NOT NULL,
    ts REAL NOT NULL
);
"""

_INSERT_ACTION = (
    "INSERT INTO alarm_actions (alarm_name, transition_ts, state, action, ok, detail, ts) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_ACTIONS = (
    "SELECT alarm_name, transition_ts, state, action, ok, detail, ts FROM alarm_actions "
    "ORDER BY ts, rowid"
)


@dataclass(frozen=True)
class HistoryItem:
    """One transition: at `timestamp` (epoch seconds) the alarm went old_state -> new_state."""

    alarm_name: str
    timestamp: float
    old_state: str
    new_state: str
    reason: str
    reason_data: dict[str, Any]

    def to_row(self) -> tuple[str, float, str, str, str, str]:
        """The alarm_history row (reason_data as JSON text)."""
        return (
            self.alarm_name,
            self.timestamp,
            self.old_state,
            self.new_state,
            self.reason,
            json.dumps(self.reason_data),
        )

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> HistoryItem:
        """Inverse of `to_row`; ValueError when reason_data is not JSON."""
        name, timestamp, old_state, new_state, reason, reason_data = row
        return cls(name, float(timestamp), old_state, new_state, reason, json.loads(reason_data))


@dataclass(frozen=True)
class ActionResult:
    """What one action of a transition did: `ok` False with `detail` saying why when it
    failed. `transition_time` is the transition's boundary, `time` when the outcome was known
    (epoch seconds)."""

    alarm_name: str
    action: str
    new_state: str
    ok: bool
    detail: str
    transition_time: float
    time: float

    @property
    def outcome(self) -> str:
        """`ran` or `failed`, as the report and logs say it."""
        return "ran" if self.ok else "failed"

    def to_row(self) -> tuple[str, float, str, str, int, str, float]:
        """The alarm_actions row: alarm_name, transition_ts, state, action, ok, detail, ts."""
        return (
            self.alarm_name,
            self.transition_time,
            self.new_state,
            self.action,
            int(self.ok),
            self.detail,
            self.time,
        )

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> ActionResult:
        """Inverse of `to_row`."""
        name, transition_time, state, action, ok, detail, time = row
        return cls(name, action, state, bool(ok), detail, float(transition_time), float(time))


def _connect(db_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, timeout=10)
    # The run's store is in WAL mode: like its writer, commit without waiting for a disk sync,
    # so a transition is on record within milliseconds of its evaluation.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(_SCHEMA)
    return conn


def save_definitions(db_path: Path, definitions: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Store (name, PutMetricAlarm JSON) pairs; a name seen again is replaced."""
    conn = _connect(db_path)
    try:
        with conn:
            conn.executemany(
                "INSERT OR REPLACE INTO alarm_definitions (alarm_name, definition) VALUES (?, ?)",
                [(name, json.dumps(doc)) for name, doc in definitions],
            )
    finally:
        conn.close()


def append(db_path: Path, items: Iterable[HistoryItem]) -> None:
    conn = _connect(db_path)
    try:
        with conn:
            conn.executemany(
                "INSERT INTO alarm_history VALUES (?, ?, ?, ?, ?, ?)", [i.to_row() for i in items]
            )
    finally:
        conn.close()


def append_action(db_path: Path, result: ActionResult) -> None:
    """Record one action's outcome (the action runner calls it as each action ends)."""
    conn = _connect(db_path)
    try:
        with conn:
            conn.execute(_INSERT_ACTION, result.to_row())
    finally:
        conn.close()


def read_actions(db_path: Path) -> list[ActionResult]:
    """Every recorded action outcome, in the order they ended; the file is only read."""
    if not db_path.is_file():
        return []
    with MetricStore(db_path, readonly=True) as store:
        return actions_in(store)


def read_definitions(db_path: Path) -> dict[str, dict[str, Any]]:
    """Every stored definition by alarm name; the file is only read."""
    if not db_path.is_file():
        return {}
    with MetricStore(db_path, readonly=True) as store:
        return definitions_in(store)


def read_history(db_path: Path, alarm_name: str | None = None) -> list[HistoryItem]:
    """Transitions oldest first, of one alarm or of all; the file is only read."""
    if not db_path.is_file():
        return []
    with MetricStore(db_path, readonly=True) as store:
        return history_in(store, alarm_name)


def definitions_in(store: MetricStore) -> dict[str, dict[str, Any]]:
    """`read_definitions` on an open store (none when the run kept no alarm tables)."""
    if not _has_table(store, "alarm_definitions"):
        return {}
    rows = store.rows("SELECT alarm_name, definition FROM alarm_definitions")
    return {name: json.loads(doc) for name, doc in rows}


def history_in(store: MetricStore, alarm_name: str | None = None) -> list[HistoryItem]:
    """`read_history` on an open store (none when the run kept no alarm tables)."""
    if not _has_table(store, "alarm_history"):
        return []
    query = "SELECT * FROM alarm_history"
    args: tuple[str, ...] = ()
    if alarm_name is not None:
        query += " WHERE alarm_name = ?"
        args = (alarm_name,)
    rows = store.rows(query + " ORDER BY ts, rowid", args)
    return [HistoryItem.from_row(row) for row in rows]


def actions_in(store: MetricStore) -> list[ActionResult]:
    """`read_actions` on an open store (none when the run kept no action table)."""
    if not _has_table(store, "alarm_actions"):
        return []
    rows = store.rows(_SELECT_ACTIONS)
    return [ActionResult.from_row(row) for row in rows]


def _has_table(store: MetricStore, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return bool(store.rows(query, (name,)))
