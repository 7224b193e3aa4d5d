"""faults.json: what each fault of a run did, measured from the run's own records.

    document = measure_faults(runs, changes=..., records=..., transitions=..., load=(start, end),
                              step_starts=outcome.step_starts)
    write_json(run_dir / FAULTS_FILE, document.to_json())
    FaultsDocument.from_json(json.loads(text)).faults[0].recovery_seconds

For each fault: its real start and end; when HAProxy took its server out of rotation (any
status but UP) and put it back; each alarm transition from its start until its recovery (or the
run's end) with the delay from the start; requests, failures and p95 during the fault and
after it until recovery. Recovery: the first `RECOVERY_WINDOW` seconds after the fault's end
whose RPS is at least 90% and whose p95 at most 110% of the step before the one the fault
starts in (the baseline; in the first step, its part before the fault); `recovery_seconds`
counts from the fault's end, None when not recovered by the end of the load. After the run,
the uploader's integrity (`Integrity`) when this run reset it: rows = files = acknowledged
uploads, nothing orphaned.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rightsizer.fault.fault import Fault
from rightsizer.fault.schedule import FaultRun, ServerChange

FAULTS_FILE = "faults.json"
RECOVERY_WINDOW = 2.0
RECOVERY_STEP = 0.5
TOLERANCE = 0.10
IN_ROTATION = "UP"


class RequestRecord(Protocol):
    """One request as the load recorded it (rightsizer.load.records.RequestRecord)."""

    @property
    def start(self) -> float: ...

    @property
    def response_ms(self) -> float: ...

    @property
    def ok(self) -> bool: ...


@dataclass(frozen=True)
class Window:
    """Requests sent in [start, end): how many, how many failed, their p95 and rate."""

    start: float
    end: float
    requests: int
    failed: int
    p95_ms: float | None

    @property
    def rps(self) -> float:
        return self.requests / (self.end - self.start) if self.end > self.start else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "requests": self.requests,
                "failed": self.failed, "p95_ms": self.p95_ms, "rps": self.rps}  # fmt: skip

    @classmethod
    def from_json(cls, raw: Any) -> Window:
        p95 = raw.get("p95_ms")
        return cls(float(raw["start"]), float(raw["end"]), int(raw["requests"]),
                   int(raw["failed"]), None if p95 is None else float(p95))  # fmt: skip


@dataclass(frozen=True)
class AlarmChange:
    """An alarm transition in a fault's window; `delay` from the fault's start."""

    alarm: str
    time: float
    from_state: str
    to_state: str
    delay: float

    def to_json(self) -> dict[str, Any]:
        return {"alarm": self.alarm, "time": self.time, "from": self.from_state,
                "to": self.to_state, "delay": self.delay}  # fmt: skip

    @classmethod
    def from_json(cls, raw: Any) -> AlarmChange:
        return cls(str(raw["alarm"]), float(raw["time"]), str(raw["from"]), str(raw["to"]),
                   float(raw["delay"]))  # fmt: skip


@dataclass(frozen=True)
class FaultRecord:
    """One fault as measured; times in epoch seconds, None where it did not happen."""

    fault: Fault
    started: float | None
    ended: float | None
    facts: Mapping[str, Any]
    error: str | None
    server_changes: tuple[ServerChange, ...]
    out_of_rotation: float | None
    back_in_rotation: float | None
    alarms: tuple[AlarmChange, ...]
    baseline: Window | None
    during: Window | None
    after: Window | None
    recovered_at: float | None

    @property
    def recovery_seconds(self) -> float | None:
        if self.recovered_at is None or self.ended is None:
            return None
        return self.recovered_at - self.ended

    @property
    def failed(self) -> int:
        return sum(w.failed for w in (self.during, self.after) if w is not None)

    @property
    def sentence(self) -> str:
        """What happened in one line: "kill-task@20s:1: out of rotation in 2.1 s, 14 requests
        failed, recovered in 6.0 s"."""
        if self.started is None:
            return f"{self.fault.text}: not done ({self.error})"
        parts = []
        if self.out_of_rotation is not None:
            parts.append(f"out of rotation in {self.out_of_rotation - self.started:.1f} s")
        alarms = [a for a in self.alarms if a.to_state == "ALARM"]
        if alarms:
            parts.append(f"{alarms[0].alarm} in ALARM after {alarms[0].delay:.1f} s")
        parts.append(f"{self.failed} requests failed")
        recovery = self.recovery_seconds
        parts.append(
            "not recovered by the end" if recovery is None else f"recovered in {recovery:.1f} s"
        )
        if self.error is not None:
            parts.append(self.error)
        return f"{self.fault.text}: " + ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        def opt(window: Window | None) -> dict[str, Any] | None:
            return None if window is None else window.to_json()

        return {
            "fault": self.fault.to_json(),
            "text": self.fault.text,
            "started": self.started,
            "ended": self.ended,
            "facts": dict(self.facts),
            "error": self.error,
            "server_changes": [c.to_json() for c in self.server_changes],
            "out_of_rotation": self.out_of_rotation,
            "back_in_rotation": self.back_in_rotation,
            "alarms": [a.to_json() for a in self.alarms],
            "baseline": opt(self.baseline),
            "during": opt(self.during),
            "after": opt(self.after),
            "recovered_at": self.recovered_at,
            "recovery_seconds": self.recovery_seconds,
            "failed_requests": self.failed,
            "summary": self.sentence,
        }

    @classmethod
    def from_json(cls, raw: Any) -> FaultRecord:
        def opt(value: Any) -> Window | None:
            return None if value is None else Window.from_json(value)

        def num(value: Any) -> float | None:
            return None if value is None else float(value)

        return cls(
            fault=Fault.from_json(raw["fault"]),
            started=num(raw.get("started")),
            ended=num(raw.get("ended")),
            facts=dict(raw.get("facts") or {}),
            error=raw.get("error"),
            server_changes=tuple(ServerChange.from_json(c) for c in raw.get("server_changes", [])),
            out_of_rotation=num(raw.get("out_of_rotation")),
            back_in_rotation=num(raw.get("back_in_rotation")),
            alarms=tuple(AlarmChange.from_json(a) for a in raw.get("alarms", [])),
            baseline=opt(raw.get("baseline")),
            during=opt(raw.get("during")),
            after=opt(raw.get("after")),
            recovered_at=num(raw.get("recovered_at")),
        )


@dataclass(frozen=True)
class Integrity:
    """The uploader after the run: rows and files against the uploads the load saw succeed."""

    acknowledged: int
    rows: int
    files: int
    consistent: bool

    @property
    def intact(self) -> bool:
        """Nothing lost, nothing orphaned: rows = files = acknowledged uploads."""
        return self.consistent and self.acknowledged == self.rows == self.files

    def to_json(self) -> dict[str, Any]:
        return {
            "acknowledged_uploads": self.acknowledged,
            "rows": self.rows,
            "files": self.files,
            "consistent": self.consistent,
            "intact": self.intact,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Integrity:
        return cls(int(raw["acknowledged_uploads"]), int(raw["rows"]), int(raw["files"]),
                   bool(raw["consistent"]))  # fmt: skip


@dataclass(frozen=True)
class FaultsDocument:
    """faults.json."""

    faults: tuple[FaultRecord, ...]
    integrity: Integrity | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "faults": [f.to_json() for f in self.faults],
            "integrity": None if self.integrity is None else self.integrity.to_json(),
        }

    @classmethod
    def from_json(cls, raw: Any) -> FaultsDocument:
        if not isinstance(raw, dict) or not isinstance(raw.get("faults"), list):
            raise ValueError("faults.json holds no fault list")
        integrity = raw.get("integrity")
        return cls(
            tuple(FaultRecord.from_json(f) for f in raw["faults"]),
            None if integrity is None else Integrity.from_json(integrity),
        )


def window(records: Sequence[RequestRecord], start: float, end: float) -> Window:
    """The requests sent in [start, end)."""
    chosen = [r for r in records if start <= r.start < end]
    times = [r.response_ms for r in chosen]
    p95 = float(np.percentile(times, 95)) if times else None
    return Window(start, end, len(chosen), sum(not r.ok for r in chosen), p95)


def baseline_span(
    step_starts: Sequence[float], started: float, load_start: float
) -> tuple[float, float]:
    """The step before the one the fault starts in; in the first step, its part before the
    fault."""
    index = bisect.bisect_right(step_starts, started) - 1
    if index >= 1:
        return step_starts[index - 1], step_starts[index]
    return (step_starts[0] if step_starts else load_start), started


def recovered(baseline: Window, candidate: Window) -> bool:
    """RPS and p95 within 10% of the baseline (more RPS or a lower p95 are fine too)."""
    if baseline.p95_ms is None or candidate.p95_ms is None or candidate.failed:
        return False
    return (
        candidate.rps >= (1 - TOLERANCE) * baseline.rps
        and candidate.p95_ms <= (1 + TOLERANCE) * baseline.p95_ms
    )


def recovery_time(
    records: Sequence[RequestRecord], baseline: Window, after: float, load_end: float
) -> float | None:
    """The start of the first window after `after` that `recovered`; None before `load_end`."""
    t = after
    while t + RECOVERY_WINDOW <= load_end:
        if recovered(baseline, window(records, t, t + RECOVERY_WINDOW)):
            return t
        t += RECOVERY_STEP
    return None


def _rotation(
    changes: Sequence[ServerChange], server: str, started: float
) -> tuple[float | None, float | None]:
    """When `server` left UP at or after `started`, and when it was UP again after that."""
    out = back = None
    for change in changes:
        if change.server != server or change.time < started:
            continue
        if out is None and not change.status.startswith(IN_ROTATION):
            out = change.time
        elif out is not None and change.status == IN_ROTATION:
            back = change.time
            break
    return out, back


def measure_fault(
    run: FaultRun,
    *,
    changes: Sequence[ServerChange],
    records: Sequence[RequestRecord],
    transitions: Sequence[Mapping[str, Any]],
    load: tuple[float, float],
    step_starts: Sequence[float],
) -> FaultRecord:
    """One fault's record; a fault never started keeps only its error."""
    server = f"t{run.fault.task}"
    if run.started is None:
        return FaultRecord(run.fault, None, None, run.facts, run.error, (), None, None, (),
                           None, None, None, None)  # fmt: skip
    load_start, load_end = load
    started = run.started
    ended = run.ended if run.ended is not None else load_end
    base_start, base_end = baseline_span(step_starts, started, load_start)
    baseline = window(records, base_start, base_end) if base_end > base_start else None
    during = window(records, started, ended) if ended > started else None
    recovered_at = (
        recovery_time(records, baseline, ended, load_end) if baseline is not None else None
    )
    after_end = recovered_at if recovered_at is not None else load_end
    after = window(records, ended, after_end) if after_end > ended else None
    if not run.fault.kind.on_task:
        changes = ()  # no server of its own: HAProxy's changes are not its doing alone
    out, back = _rotation(changes, server, started)
    horizon = recovered_at if recovered_at is not None else math.inf
    alarms = tuple(
        AlarmChange(
            str(t["alarm"]),
            float(t["time"]),
            str(t["from"]),
            str(t["to"]),
            float(t["time"]) - started,
        )
        for t in transitions
        if started <= float(t["time"]) <= max(horizon, ended)
    )
    mine = tuple(c for c in changes if c.server == server and c.time >= started)
    return FaultRecord(run.fault, started, run.ended, run.facts, run.error, mine, out, back,
                       alarms, baseline, during, after, recovered_at)  # fmt: skip


def measure_faults(
    runs: Sequence[FaultRun],
    *,
    changes: Sequence[ServerChange],
    records: Sequence[RequestRecord],
    transitions: Sequence[Mapping[str, Any]],
    load: tuple[float, float],
    step_starts: Sequence[float],
    integrity: Integrity | None = None,
) -> FaultsDocument:
    ordered = sorted(records, key=lambda r: r.start)
    return FaultsDocument(
        tuple(
            measure_fault(
                r,
                changes=changes,
                records=ordered,
                transitions=transitions,
                load=load,
                step_starts=step_starts,
            )
            for r in runs
        ),
        integrity,
    )
