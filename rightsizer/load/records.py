"""One request as the load generator saw it, kept exactly (no buckets, no rounding).

Locust fires its `request` event once per request; `from_event` turns the event's arguments into
a `RequestRecord`. Workers ship records to the master as plain lists (`as_row` / `from_row`), so
a run with workers keeps every request as well.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple


class RequestRecord(NamedTuple):
    """`start` is epoch seconds when the request was sent; `response_ms` how long it took.
    `intended_start`: with `--arrival-rate`, when it would have been sent had its iteration
    started on time (rightsizer.load.arrival); None in a closed-model load."""

    start: float
    name: str
    method: str
    response_ms: float
    ok: bool
    length: int
    intended_start: float | None = None

    @property
    def corrected_ms(self) -> float | None:
        """Milliseconds from the intended start to the answer: the latency corrected for
        coordinated omission (None without an intended start)."""
        if self.intended_start is None:
            return None
        return self.response_ms + max(0.0, self.start - self.intended_start) * 1000.0

    @property
    def end(self) -> float:
        """Epoch seconds when the answer (or the error) came back."""
        return self.start + self.response_ms / 1000.0

    def as_row(self) -> list[Any]:
        """A msgpack/JSON-friendly list, for a worker's report to the master."""
        row = [self.start, self.name, self.method, self.response_ms, self.ok, self.length]
        return row if self.intended_start is None else [*row, self.intended_start]


def from_event(
    *,
    request_type: str,
    name: str,
    response_time: float | None,
    response_length: int | None,
    exception: BaseException | None,
    start_time: float | None,
    now: float,
    intended: Callable[[float], float | None] | None = None,
) -> RequestRecord:
    """The record of one `request` event; clients that give no start time get now - duration.
    `intended` maps the start to the intended one (an open-model load)."""
    response_ms = float(response_time or 0.0)
    if not math.isfinite(response_ms) or response_ms < 0:
        response_ms = 0.0
    start = float(start_time) if start_time is not None else now - response_ms / 1000.0
    ok, length = exception is None, int(response_length or 0)
    planned = None if intended is None else intended(start)
    return RequestRecord(start, str(name), str(request_type), response_ms, ok, length, planned)


def from_row(row: Sequence[Any]) -> RequestRecord | None:
    """A record from a worker's list, or None when the list is not one (a foreign worker)."""
    if len(row) not in (len(RequestRecord._fields) - 1, len(RequestRecord._fields)):
        return None
    start, name, method, response_ms, ok, length, *rest = row
    try:
        record = RequestRecord(
            float(start),
            str(name),
            str(method),
            float(response_ms),
            bool(ok),
            int(length),
            float(rest[0]) if rest else None,
        )
    except (TypeError, ValueError):
        return None
    return record if math.isfinite(record.start) and math.isfinite(record.response_ms) else None


class RecordLog:
    """Every record of a run, in arrival order; readers take what is new since their cursor."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def __len__(self) -> int:
        return len(self.records)

    def add(self, record: RequestRecord) -> None:
        self.records.append(record)

    def extend(self, records: Sequence[RequestRecord]) -> None:
        self.records.extend(records)

    def since(self, cursor: int) -> tuple[list[RequestRecord], int]:
        """The records after position `cursor`, and the new cursor."""
        end = len(self.records)
        return self.records[cursor:end], end
