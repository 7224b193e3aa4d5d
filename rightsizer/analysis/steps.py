"""One load step as `steps.json` records it, and the SLO a step is judged against.

`Step.from_dict` is tolerant: a field the writer left out (a server-side figure on a `--host`
run, say) becomes None rather than an error, because a report of a partial run is still useful.

    steps = parse_steps(run_dir.steps())
    [s.users for s in steps if Slo().met_by(s)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def _float(raw: Any) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def _int(raw: Any) -> int | None:
    value = _float(raw)
    return None if value is None else int(value)


@dataclass(frozen=True)
class RequestStats:
    """One request name's figures within a step (`requests` in steps.json)."""

    name: str
    count: int | None = None
    failures: int | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any]) -> RequestStats:
        return cls(
            name=name,
            count=_int(raw.get("count")),
            failures=_int(raw.get("failures")),
            rps=_float(raw.get("rps")),
            p50_ms=_float(raw.get("p50_ms")),
            p95_ms=_float(raw.get("p95_ms")),
            p99_ms=_float(raw.get("p99_ms")),
            max_ms=_float(raw.get("max_ms")),
        )


@dataclass(frozen=True)
class Step:
    """One step of a run. Times are epoch seconds; counts cover the whole step, rates,
    percentiles and utilizations the steady window [steady_start, end)."""

    index: int
    users: int
    start: float | None = None
    end: float | None = None
    steady_start: float | None = None
    requests_total: int | None = None
    failures: int | None = None
    fail_ratio: float | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    cpu_utilization: float | None = None
    cpu_utilization_max: float | None = None
    memory_utilization: float | None = None
    generator_cpu: float | None = None
    generator_bound: bool = False
    requests: tuple[RequestStats, ...] = field(default=())

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], position: int = 0) -> Step:
        """Parse one steps.json entry; `position` stands in for a missing index."""
        requests = raw.get("requests")
        return cls(
            index=_int(raw.get("index")) or position,
            users=_int(raw.get("users")) or 0,
            start=_float(raw.get("start")),
            end=_float(raw.get("end")),
            steady_start=_float(raw.get("steady_start")),
            requests_total=_int(raw.get("requests_total")),
            failures=_int(raw.get("failures")),
            fail_ratio=_float(raw.get("fail_ratio")),
            rps=_float(raw.get("rps")),
            p50_ms=_float(raw.get("p50_ms")),
            p90_ms=_float(raw.get("p90_ms")),
            p95_ms=_float(raw.get("p95_ms")),
            p99_ms=_float(raw.get("p99_ms")),
            max_ms=_float(raw.get("max_ms")),
            cpu_utilization=_float(raw.get("cpu_utilization")),
            cpu_utilization_max=_float(raw.get("cpu_utilization_max")),
            memory_utilization=_float(raw.get("memory_utilization")),
            generator_cpu=_float(raw.get("generator_cpu")),
            generator_bound=raw.get("generator_bound") is True,
            requests=tuple(
                RequestStats.from_dict(str(name), stats)
                for name, stats in (requests.items() if isinstance(requests, Mapping) else ())
                if isinstance(stats, Mapping)
            ),
        )

    @property
    def failure_pct(self) -> float | None:
        """Failed requests in percent: Locust's `fail_ratio` (a fraction) x 100, else the
        whole-step counts."""
        if self.fail_ratio is not None:
            return self.fail_ratio * 100
        if self.failures is not None and self.requests_total:
            return self.failures / self.requests_total * 100
        return None

    @property
    def window(self) -> tuple[float, float] | None:
        """The steady window (start, end) in epoch seconds, when both ends are known."""
        start = self.steady_start if self.steady_start is not None else self.start
        if start is None or self.end is None or self.end <= start:
            return None
        return (start, self.end)


def parse_steps(raw_steps: Iterable[Any]) -> tuple[Step, ...]:
    """Steps in the order they ran; entries that are not JSON objects are skipped."""
    return tuple(
        Step.from_dict(raw, position)
        for position, raw in enumerate(raw_steps)
        if isinstance(raw, Mapping)
    )


@dataclass(frozen=True)
class Slo:
    """The service level a step must meet: p95 below `p95_ms` and failures below
    `failure_pct` percent (the demo's default: p95 < 1 s, failures < 1%)."""

    p95_ms: float = 1000.0
    failure_pct: float = 1.0

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> Slo:
        raw = manifest.get("slo")
        if not isinstance(raw, Mapping):
            return cls()
        p95 = _float(raw.get("p95_ms"))
        failures = _float(raw.get("failure_pct"))
        return cls(
            p95_ms=p95 if p95 is not None and p95 > 0 else cls.p95_ms,
            failure_pct=failures if failures is not None and failures >= 0 else cls.failure_pct,
        )

    def breaches(self, step: Step) -> list[str]:
        """Why `step` misses the SLO, as short phrases; empty when it meets it."""
        reasons = []
        if step.p95_ms is not None and step.p95_ms >= self.p95_ms:
            reasons.append(f"p95 {step.p95_ms:.0f} ms ≥ {self.p95_ms:.0f} ms")
        failure_pct = step.failure_pct
        if failure_pct is not None and failure_pct >= self.failure_pct:
            reasons.append(f"failures {failure_pct:.2f}% ≥ {self.failure_pct:g}%")
        return reasons

    def met_by(self, step: Step) -> bool | None:
        """True/False, or None when the step has no p95 to judge."""
        if step.p95_ms is None:
            return None
        return not self.breaches(step)


@dataclass(frozen=True)
class LoadPoint:
    """Throughput (requests/s) measured at a number of concurrent users; `requests` is how many
    requests the figure rests on (its noise), when known."""

    users: float
    throughput: float
    requests: int | None = None


def load_points(steps: Iterable[Step]) -> tuple[LoadPoint, ...]:
    """One point per step with users and a measured RPS, in ascending users order."""
    points = [
        LoadPoint(s.users, s.rps, _steady_requests(s))
        for s in steps
        if s.users > 0 and s.rps is not None
    ]
    return tuple(sorted(points, key=lambda p: p.users))


def _steady_requests(step: Step) -> int | None:
    window = step.window
    if window is None or step.rps is None:
        return None
    return round(step.rps * (window[1] - window[0]))
