"""The metric store: one SQLite file per run, series named the CloudWatch way.

A series is (namespace, metric name, dimensions); a sample is (timestamp, value) where the
timestamp is epoch seconds at the middle of the interval the sample measures. Several processes
may write one store at once (the fleet's samplers and the load generator): WAL mode and a busy
timeout make that safe.

    store = MetricStore(run_dir / "metrics.db")
    key = MetricKey.of("CPUUtilization", ServiceName="uploader", TaskId="1")
    store.put(key, time.time(), 37.5)
    store.datapoints(key, period=60, statistic=Statistic.parse("Average"))
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rightsizer.errors import UsageError
from rightsizer.metrics.names import NAMESPACE, STATISTIC_DIMENSION
from rightsizer.metrics.statistics import Statistic

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT 'None',
    UNIQUE (namespace, name, dimensions)
);
CREATE TABLE IF NOT EXISTS samples (
    series_id INTEGER NOT NULL REFERENCES series(id),
    ts REAL NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_series_time ON samples (series_id, ts);
"""


@dataclass(frozen=True, order=True)
class MetricKey:
    """Which series: `MetricKey.of("CPUUtilization", ServiceName="uploader", TaskId="2")`."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, name: str, namespace: str = NAMESPACE, **dimensions: str) -> MetricKey:
        return cls(namespace, name, tuple(sorted((k, str(v)) for k, v in dimensions.items())))

    @classmethod
    def from_parts(
        cls, namespace: str, name: str, dimensions: Mapping[str, str] | None = None
    ) -> MetricKey:
        return cls.of(name, namespace, **(dimensions or {}))

    def of_statistic(self, statistic: str) -> MetricKey:
        """The series that holds CloudWatch's `statistic` of this one, where a run read
        several statistics of one metric from CloudWatch: this key with the Statistic
        dimension (names.STATISTIC_DIMENSION). Readers try it first and fall back to this key
        (a local fleet's raw samples, of which any statistic is computed; CloudWatch's
        primary statistic)."""
        return MetricKey.from_parts(
            self.namespace, self.name, {**self.dimension_map, STATISTIC_DIMENSION: statistic}
        )

    @property
    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)

    def __str__(self) -> str:
        dims = ",".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.namespace}/{self.name}" + (f"{{{dims}}}" if dims else "")


@dataclass(frozen=True)
class Sample:
    key: MetricKey
    timestamp: float
    value: float
    unit: str = "None"


@dataclass(frozen=True)
class Datapoint:
    """One period's statistic: `timestamp` is the period's start (epoch seconds)."""

    timestamp: float
    value: float
    sample_count: int


def period_start(timestamp: float, period: float) -> float:
    """Start of the epoch-aligned period holding `timestamp`."""
    return math.floor(timestamp / period) * period


class MetricStore:
    """Thread-safe access to one metrics SQLite file (created on first use).

    `readonly=True` opens an existing store of a recorded run and never creates or changes
    it; a file that is missing, not SQLite, not a metric store or damaged raises UsageError
    naming the file, at opening or at the read that finds the damage. `busy_timeout` is how
    long a write waits for another writer's lock before `database is locked`."""

    def __init__(self, path: Path, *, readonly: bool = False, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.readonly = readonly
        if readonly:
            self._db = _open_readonly(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=busy_timeout)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._ids: dict[MetricKey, int] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> MetricStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """A damaged store found while reading a recorded run is the user's file, not a bug."""
        if not self.readonly:
            yield
            return
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise unreadable(self.path, exc) from None

    def rows(self, query: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query on the store's file (the alarm tables share it)."""
        with self._lock, self._reading():
            return self._db.execute(query, args).fetchall()

    # -- writing ---------------------------------------------------------------------------

    def _series_id(self, key: MetricKey, unit: str, fresh: dict[MetricKey, int]) -> int:
        """The id of `key`'s series, inserted if new. An id found in this transaction goes
        into `fresh`, which the caller caches only once the transaction has committed: a
        rolled-back insert must not leave a cached id that names no row."""
        cached = self._ids.get(key, fresh.get(key))
        if cached is not None:
            return cached
        dims = json.dumps(key.dimensions)
        self._db.execute(
            "INSERT OR IGNORE INTO series (namespace, name, dimensions, unit) VALUES (?, ?, ?, ?)",
            (key.namespace, key.name, dims, unit),
        )
        row = self._db.execute(
            "SELECT id FROM series WHERE namespace = ? AND name = ? AND dimensions = ?",
            (key.namespace, key.name, dims),
        ).fetchone()
        fresh[key] = int(row[0])
        return fresh[key]

    def put(self, key: MetricKey, timestamp: float, value: float, unit: str = "None") -> None:
        self.put_many([Sample(key, timestamp, value, unit)])

    def put_many(
        self,
        samples: Iterable[Sample],
        points: Mapping[MetricKey, Sequence[tuple[float, float]]] | None = None,
        points_unit: str = "None",
    ) -> None:
        """Write a batch in one transaction (samplers write one batch per tick), with `points`:
        (timestamp, value) pairs of a few series in `points_unit`, the fast path for many
        samples of one series (the generator's one per request; the runner writes both each
        tick)."""
        insert = "INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?)"
        fresh: dict[MetricKey, int] = {}
        with self._lock:
            with self._db:
                rows = [
                    (self._series_id(s.key, s.unit, fresh), s.timestamp, s.value)
                    for s in samples
                    if math.isfinite(s.value)
                ]
                self._db.executemany(insert, rows)
                for key, values in (points or {}).items():
                    series = self._series_id(key, points_unit, fresh)
                    self._db.executemany(
                        insert,
                        [(series, ts, value) for ts, value in values if math.isfinite(value)],
                    )
            self._ids.update(fresh)  # committed: those rows exist

    # -- reading ---------------------------------------------------------------------------

    def keys(self, namespace: str | None = None, name: str | None = None) -> list[MetricKey]:
        """Every series, optionally only those of one namespace and/or metric name."""
        query = "SELECT namespace, name, dimensions FROM series WHERE 1 = 1"
        args: list[str] = []
        if namespace is not None:
            query += " AND namespace = ?"
            args.append(namespace)
        if name is not None:
            query += " AND name = ?"
            args.append(name)
        with self._lock, self._reading():
            rows = self._db.execute(query, args).fetchall()
        return sorted(
            MetricKey(ns, n, tuple(tuple(pair) for pair in json.loads(d))) for ns, n, d in rows
        )

    def samples(
        self, key: MetricKey, start: float | None = None, end: float | None = None
    ) -> list[tuple[float, float]]:
        """(timestamp, value) pairs with start <= timestamp < end, oldest first."""
        query = (
            "SELECT s.ts, s.value FROM samples s JOIN series r ON r.id = s.series_id "
            "WHERE r.namespace = ? AND r.name = ? AND r.dimensions = ?"
        )
        args: list[object] = [key.namespace, key.name, json.dumps(key.dimensions)]
        if start is not None:
            query += " AND s.ts >= ?"
            args.append(start)
        if end is not None:
            query += " AND s.ts < ?"
            args.append(end)
        with self._lock, self._reading():
            return [
                (float(t), float(v)) for t, v in self._db.execute(query + " ORDER BY s.ts", args)
            ]

    def datapoints(
        self,
        key: MetricKey,
        period: float,
        statistic: Statistic,
        start: float | None = None,
        end: float | None = None,
    ) -> list[Datapoint]:
        """One datapoint per epoch-aligned period that holds at least one sample."""
        return list(aggregate(self.samples(key, start, end), period, statistic))


def unreadable(path: Path, exc: Exception) -> UsageError:
    """The one-line error for a metrics file that cannot be read as a metric store."""
    return UsageError(
        f"{path}: not a readable rightsizer metric store ({exc}); "
        "it is damaged or not a run's metrics.db"
    )


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing store. The path goes in as a file: URI, whose
    percent-encoding keeps '#', '?' and '%' in directory names part of the path (a raw
    f"file:{path}" would cut the path there and open, or create, another file)."""
    if not path.is_file():
        raise UsageError(f"{path}: missing; the run recorded no metrics")
    uri = path.resolve().as_uri() + "?mode=ro"
    if not path.with_name(path.name + "-wal").exists():
        # No write-ahead log: no writer has the store open, so it is read as it is on disk.
        # A plain read-only connection would create -wal and -shm files it cannot remove.
        uri += "&immutable=1"
    db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=10)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        db.close()
        raise unreadable(path, exc) from None
    if not {"series", "samples"} <= tables:
        db.close()
        raise unreadable(path, ValueError("no series and samples tables"))
    return db


def aggregate(
    samples: Iterable[tuple[float, float]], period: float, statistic: Statistic
) -> Iterator[Datapoint]:
    """Group (timestamp, value) samples into epoch-aligned periods; periods without samples
    give no datapoint (they are missing, as in CloudWatch)."""
    groups: dict[float, list[float]] = defaultdict(list)
    for timestamp, value in samples:
        groups[period_start(timestamp, period)].append(value)
    for start in sorted(groups):
        values = groups[start]
        yield Datapoint(start, statistic.of(values), len(values))
