"""What limits each size, and which to deploy: cheapest per 1,000 users with memory headroom."""

from __future__ import annotations

from typing import Any

import pytest

from rightsizer.sizing.measurement import SizeMeasurement
from rightsizer.sizing.prices import Prices
from rightsizer.sizing.recommendation import Limiter
from rightsizer.sizing.sizes_document import SizesDocument, build_sizes
from rightsizer.sizing.task_size import Platform, TaskSize

PRICES = Prices(0.04, 0.004, "test prices")


def measured(cpu: float, memory: int, users: int | None, **figures: Any) -> SizeMeasurement:
    values: dict[str, Any] = {
        "limit_reached": True,
        "knee_users": users,
        "cpu_at_limit": 90.0,
        "peak_memory_mb": memory * 0.3,
        "memory_at_limit_mb": memory * 0.25,
        "bottleneck": "tasks' CPU",
        "bottleneck_evidence": ("busy",),
        "workers": 1,
        "run_dir": None,
    }
    values.update(figures)
    return SizeMeasurement(size=TaskSize(cpu, memory), users_per_task=users, **values)


def build(*sizes: SizeMeasurement, **kwargs: Any) -> SizesDocument:
    return build_sizes(sizes, PRICES, target_users=1000, headroom=0.3, **kwargs)


def test_cheapest_per_thousand_users_wins() -> None:
    # task-hours: 0.25/512 $0.012, 0.5/1024 $0.024, 1/2048 $0.048. Users 10, 25, 40:
    # per 1,000 users (30% headroom): 0.012/7, 0.024/17.5, 0.048/28 (x 1000) = 1.714, 1.371,
    # 1.714: the middle one is cheapest.
    doc = build(measured(1, 2048, 40), measured(0.25, 512, 10), measured(0.5, 1024, 25))
    assert [str(r.size) for r in doc.rows] == ["0.25/512", "0.5/1024", "1/2048"]
    assert doc.recommended == TaskSize(0.5, 1024)
    per_1000 = [r.cost.per_1000_users_hour for r in doc.rows if r.cost]
    assert per_1000 == pytest.approx([0.012 / 7 * 1000, 0.024 / 17.5 * 1000, 0.048 / 28 * 1000])
    assert doc.sentence().startswith("Deploy 0.5 vCPU / 1024 MiB: 25 users per task")
    assert "limited by CPU" in doc.sentence()


def test_size_without_memory_headroom_is_passed_over() -> None:
    # The cheap one peaks at 80% of its memory (over the 70% that 30% headroom allows).
    doc = build(measured(0.25, 512, 20, peak_memory_mb=410.0), measured(0.5, 1024, 25))
    assert doc.recommended == TaskSize(0.5, 1024)
    assert not doc.rows[0].memory_ok and doc.rows[1].memory_ok


def test_memory_near_the_limit_is_what_limits() -> None:
    doc = build(measured(0.25, 512, 20, peak_memory_mb=480.0, cpu_at_limit=95.0))
    assert doc.rows[0].limiter is Limiter.MEMORY
    assert "480 of 512 MiB" in doc.rows[0].limiter_evidence
    assert doc.recommended is None
    assert doc.why_none is not None and "memory" in doc.why_none


def test_users_not_growing_with_cpu_points_at_a_shared_part() -> None:
    # 4 x the vCPU (0.25 -> 1) gave 1.2 x the users with CPU at 30%: the database sets it.
    doc = build(
        measured(0.25, 512, 10),
        measured(1, 2048, 12, cpu_at_limit=30.0, bottleneck="the shared database"),
    )
    big = doc.rows[1]
    assert big.limiter is Limiter.SHARED
    assert "4 x the vCPU of 0.25/512 gave 1.20 x the users" in big.limiter_evidence
    assert doc.rows[0].limiter is Limiter.CPU


def test_users_growing_with_cpu_is_not_shared() -> None:
    doc = build(
        measured(0.25, 512, 10), measured(0.5, 1024, 19, cpu_at_limit=60.0, bottleneck="unknown")
    )
    assert doc.rows[1].limiter is Limiter.UNKNOWN


def test_no_size_met_the_slo() -> None:
    doc = build(measured(0.25, 512, 0), measured(0.5, 1024, None))
    assert doc.recommended is None
    assert all(r.cost is None for r in doc.rows)
    assert doc.sentence() == "No size to recommend: no size carried a user within the SLO."


def test_json_round_trip() -> None:
    doc = build(measured(0.25, 512, 10), measured(0.5, 1024, 25), platform=Platform.KUBERNETES)
    again = SizesDocument.from_json(doc.to_json())
    assert again == doc
    assert doc.to_json()["sentence"] == doc.sentence()


def test_the_run_s_own_bottleneck_names_the_rest() -> None:
    # CPU under 85% at the limit, yet the run's rule saw the task's CPU busy at the first bad
    # step; a run whose machine was the limit says so, and its users are only a floor.
    doc = build(
        measured(0.25, 512, 10, cpu_at_limit=79.0),
        measured(0.5, 1024, 30, cpu_at_limit=35.0, bottleneck="this machine (the rig)"),
    )
    assert [r.limiter for r in doc.rows] == [Limiter.CPU, Limiter.RIG]
    assert doc.rows[1].limiter_evidence.startswith("this machine (the rig): busy")


def test_a_machine_limited_size_is_not_taken_for_one_that_does_not_scale() -> None:
    # Measured on the full sweep of this machine: 0.5/1024 carried 1150 users, 1/2048 only
    # 864 with CPU at 41%, but the machine was the limit there: a floor, not a shared part.
    rig = {"bottleneck": "this machine (the rig)", "bottleneck_evidence": ("CPU at 98%",)}
    doc = build(
        measured(0.5, 1024, 1150, cpu_at_limit=76.0, **rig),
        measured(1, 2048, 864, cpu_at_limit=41.0, **rig),
    )
    assert [r.limiter for r in doc.rows] == [Limiter.RIG, Limiter.RIG]
    assert "only a floor" in doc.rows[1].limiter_evidence
    # and a size above a machine-limited one is not compared with it
    above = build(
        measured(0.5, 1024, 1150, cpu_at_limit=76.0, **rig),
        measured(1, 2048, 1200, cpu_at_limit=50.0, bottleneck="unknown"),
    )
    assert above.rows[1].limiter is Limiter.UNKNOWN


def test_caveats_name_the_sizes_whose_figures_are_floors() -> None:
    rig = {"bottleneck": "this machine (the rig)", "bottleneck_evidence": ("CPU at 98%",)}
    doc = build(
        measured(0.25, 512, 10, limit_reached=False),
        measured(0.5, 1024, 30, cpu_at_limit=40.0, **rig),
    )
    first, second = doc.caveats()
    assert first.startswith("0.5/1024: this machine or the load generator was the limit")
    assert second.startswith("0.25/512: the SLO held at every step")
    assert doc.to_json()["caveats"] == [first, second]
    # 0.5/1024 is cheaper per 1,000 users (30 users for twice the price of 10)
    assert doc.sentence().startswith("Deploy 0.5 vCPU / 1024 MiB: 30 users per task")
    alone = build(measured(0.25, 512, 10, limit_reached=False))
    assert "Deploy 0.25 vCPU / 512 MiB: at least 10 users per task" in alone.sentence()
