"""The answer of `rightsizer size`: one row per size (measured, priced, what limits it) and the
size to deploy, as sizes.json.

    document = build_sizes(measurements, prices, target_users=2000, headroom=0.3)
    document.sentence()          # "Deploy 0.5 vCPU / 1024 MiB: ..."
    write_json(path, document.to_json()); SizesDocument.from_json(read_json(path))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rightsizer.sizing.cost import SizeCost, size_cost
from rightsizer.sizing.measurement import SizeMeasurement
from rightsizer.sizing.prices import Prices
from rightsizer.sizing.recommendation import Limiter, limiters, memory_fits, qualifies
from rightsizer.sizing.task_size import Platform, TaskSize


@dataclass(frozen=True)
class SizeRow:
    """One size: what was measured, what it costs for the target (None: no users measured),
    what limits it and why, and whether its peak memory kept the headroom."""

    measured: SizeMeasurement
    cost: SizeCost | None
    limiter: Limiter
    limiter_evidence: str
    memory_ok: bool

    @property
    def size(self) -> TaskSize:
        return self.measured.size

    def to_json(self) -> dict[str, Any]:
        return {
            "measured": self.measured.to_json(),
            "cost": self.cost.to_json() if self.cost else None,
            "limiter": self.limiter.name,
            "limiter_evidence": self.limiter_evidence,
            "memory_ok": self.memory_ok,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SizeRow:
        cost = raw.get("cost")
        return cls(
            measured=SizeMeasurement.from_json(raw["measured"]),
            cost=SizeCost.from_json(cost) if cost else None,
            limiter=Limiter[raw["limiter"]],
            limiter_evidence=str(raw["limiter_evidence"]),
            memory_ok=bool(raw["memory_ok"]),
        )


@dataclass(frozen=True)
class SizesDocument:
    """Every size's row, the prices used, the target, and the recommended size (None: no
    size met the SLO with memory headroom; `why_none` says why)."""

    rows: tuple[SizeRow, ...]
    prices: Prices
    target_users: int
    headroom: float
    memory_headroom: float
    platform: Platform
    recommended: TaskSize | None
    why_none: str | None = None

    @property
    def recommended_row(self) -> SizeRow | None:
        return next((r for r in self.rows if r.size == self.recommended), None)

    def sentence(self) -> str:
        """The recommendation in one sentence."""
        row = self.recommended_row
        if row is None or row.cost is None:
            return f"No size to recommend: {self.why_none}."
        m = row.measured
        users = f"{m.users_per_task}" if m.limit_reached else f"at least {m.users_per_task}"
        return (
            f"Deploy {m.size.cpu:g} vCPU / {m.size.memory_mb} MiB: {users} users "
            f"per task at the SLO, ${row.cost.per_1000_users_hour:.4f} per 1,000 users per "
            f"hour, {row.cost.tasks} tasks (${row.cost.month:,.0f} a month) for "
            f"{self.target_users:,} users with {self.headroom:.0%} headroom; limited by "
            f"{row.limiter.value}."
        )

    def caveats(self) -> list[str]:
        """What may change the answer: sizes whose figures are floors (this machine or the
        generator was the limit, or the SLO held at every step), priced as ceilings."""
        said = []
        rig = [str(r.size) for r in self.rows if r.limiter is Limiter.RIG]
        if rig:
            said.append(
                f"{', '.join(rig)}: this machine or the load generator was the limit, so users "
                "per task is a floor and the cost per 1,000 users a ceiling; measure on a "
                "larger machine (or with load workers) before ruling them out"
            )
        held = [
            str(r.size)
            for r in self.rows
            if r.measured.users_per_task and not r.measured.limit_reached
        ]
        if held:
            said.append(
                f"{', '.join(held)}: the SLO held at every step, so users per task is a lower "
                "bound; more steps (--max-steps) or a higher --search-from would find the limit"
            )
        return said

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": [r.to_json() for r in self.rows],
            "prices": self.prices.to_json(),
            "target_users": self.target_users,
            "headroom": self.headroom,
            "memory_headroom": self.memory_headroom,
            "platform": self.platform.value,
            "recommended": self.recommended.to_json() if self.recommended else None,
            "why_none": self.why_none,
            "sentence": self.sentence(),
            "caveats": self.caveats(),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SizesDocument:
        recommended = raw.get("recommended")
        return cls(
            rows=tuple(SizeRow.from_json(r) for r in raw["rows"]),
            prices=Prices.from_json(raw["prices"]),
            target_users=int(raw["target_users"]),
            headroom=float(raw["headroom"]),
            memory_headroom=float(raw["memory_headroom"]),
            platform=Platform(raw["platform"]),
            recommended=TaskSize.from_json(recommended) if recommended else None,
            why_none=raw.get("why_none"),
        )


def build_sizes(
    measurements: Sequence[SizeMeasurement],
    prices: Prices,
    *,
    target_users: int,
    headroom: float,
    memory_headroom: float | None = None,
    platform: Platform = Platform.FARGATE,
) -> SizesDocument:
    """Price each measured size for `target_users`, name what limits it, and pick the
    cheapest per 1,000 users that qualifies (rightsizer.sizing.recommendation); memory
    headroom defaults to `headroom`."""
    memory_headroom = headroom if memory_headroom is None else memory_headroom
    ordered = sorted(measurements, key=lambda m: m.size)
    rows = []
    for measured, (limit, evidence) in zip(ordered, limiters(ordered), strict=True):
        cost = None
        if measured.users_per_task:
            cost = size_cost(
                measured.size,
                users_per_task=measured.users_per_task,
                prices=prices,
                target_users=target_users,
                headroom=headroom,
            )
        fits = memory_fits(measured, memory_headroom)
        rows.append(SizeRow(measured, cost, limit, evidence, fits))
    fit = [r for r in rows if r.cost is not None and qualifies(r.measured, memory_headroom)]
    best = min(fit, key=lambda r: (_per_1000(r), r.size), default=None)
    why_none = None
    if best is None:
        why_none = (
            "no size carried a user within the SLO"
            if not any(r.cost for r in rows)
            else f"every size that met the SLO used more than {1 - memory_headroom:.0%} of "
            "its memory at peak; measure larger memory"
        )
    return SizesDocument(
        rows=tuple(rows),
        prices=prices,
        target_users=target_users,
        headroom=headroom,
        memory_headroom=memory_headroom,
        platform=platform,
        recommended=best.size if best else None,
        why_none=why_none,
    )


def _per_1000(row: SizeRow) -> float:
    assert row.cost is not None
    return row.cost.per_1000_users_hour
