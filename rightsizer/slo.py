"""The service level a load step must meet: p95 under `p95_ms`, failures under `failure_pct`.

    slo = Slo(p95_ms=1000, failure_pct=1.0)     # the seed's "responses within a second"
    slo.breaches(p95_ms=1250.0, failure_pct=0.0) # ["p95 1250 ms ≥ 1000 ms"]

Both limits are strict: a step whose p95 equals the limit has missed it. Every command takes
its SLO through `Slo.checked` (or `overridden`), so one rule decides which limits are valid:
a p95 above 0 ms, failures above 0 and at most 100 percent.

    Slo.checked(800, 0.5)                # from --slo-p95-ms / --slo-failures
    Slo.checked(800, 150)                # UsageError: --slo-failures: 150; give a percentage ...
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rightsizer.errors import UsageError
from rightsizer.numbers import finite_number

# A task whose steady CPU reaches this share of its reservation is saturated: past it, a load
# only queues (latency climbs, throughput stays), so a search stops raising users there too.
SATURATED_CPU = 95.0


@dataclass(frozen=True)
class Slo:
    p95_ms: float = 1000.0
    failure_pct: float = 1.0

    @classmethod
    def checked(cls, p95_ms: float, failure_pct: float) -> Slo:
        """The SLO the --slo-p95-ms and --slo-failures flags give; UsageError naming the flag
        for a value out of range (see `check`)."""
        cls.check(p95_ms, failure_pct)
        return cls(p95_ms=p95_ms, failure_pct=failure_pct)

    @staticmethod
    def check(p95_ms: float | None, failure_pct: float | None) -> None:
        """UsageError naming the flag unless the p95 limit is above 0 ms and the failure limit
        above 0 and at most 100 percent; None is a flag not given."""
        if p95_ms is not None and not (math.isfinite(p95_ms) and p95_ms > 0):
            raise UsageError(f"--slo-p95-ms: {p95_ms:g}; give milliseconds above 0, e.g. 1000")
        if failure_pct is not None and not (math.isfinite(failure_pct) and 0 < failure_pct <= 100):
            raise UsageError(f"--slo-failures: {failure_pct:g}; give a percentage above 0, e.g. 1")

    def overridden(self, p95_ms: float | None, failure_pct: float | None) -> Slo:
        """This SLO with the limits the flags give (None: keep this one's), checked as
        `checked` checks them."""
        self.check(p95_ms, failure_pct)
        return Slo(
            p95_ms=self.p95_ms if p95_ms is None else p95_ms,
            failure_pct=self.failure_pct if failure_pct is None else failure_pct,
        )

    def breaches(self, p95_ms: float | None, failure_pct: float | None) -> list[str]:
        """Why a step with these figures misses the SLO, as short phrases; empty when it
        meets it. A figure that is None (nothing measured) is not judged."""
        reasons = []
        if p95_ms is not None and p95_ms >= self.p95_ms:
            reasons.append(f"p95 {p95_ms:.0f} ms ≥ {self.p95_ms:.0f} ms")
        if failure_pct is not None and failure_pct >= self.failure_pct:
            reasons.append(f"failures {failure_pct:.2f}% ≥ {self.failure_pct:g}%")
        return reasons

    def met(self, p95_ms: float | None, failure_pct: float | None) -> bool:
        return not self.breaches(p95_ms, failure_pct)

    def as_dict(self) -> dict[str, float]:
        return {"p95_ms": self.p95_ms, "failure_pct": self.failure_pct}

    @classmethod
    def from_json(cls, raw: Any) -> Slo:
        """The SLO a manifest recorded (its "slo" object); the defaults where it did not."""
        if not isinstance(raw, Mapping):
            return cls()
        p95, failures = finite_number(raw.get("p95_ms")), finite_number(raw.get("failure_pct"))
        return cls(
            p95_ms=p95 if p95 is not None and p95 > 0 else cls.p95_ms,
            failure_pct=failures if failures is not None and failures >= 0 else cls.failure_pct,
        )
