from __future__ import annotations

from typing import Any

from rightsizer.analysis.bottleneck import Part, name_bottleneck
from rightsizer.analysis.time_series import Series
from rightsizer.stepsfile import Step
from tests.analysis.helpers import T0, run_of, step


def saturating(**last: Any) -> list[Step]:
    """Throughput flattens after 5 users and p95 breaks at 20; `last` sets the 20-user step."""
    figures: dict[str, Any] = {"rps": 4.6, "p95_ms": 4000.0, "cpu_utilization": 40.0}
    figures.update(last)
    return [
        step(1, 0, rps=0.6, p95_ms=300.0, cpu_utilization=10.0),
        step(5, 1, rps=3.0, p95_ms=600.0, cpu_utilization=35.0),
        step(20, 2, **figures),
    ]


def test_busy_task_cpu_is_named_with_its_numbers() -> None:
    found = name_bottleneck(run_of(saturating(cpu_utilization=98.0, cpu_utilization_max=100.0)))
    assert found.part is Part.TASK_CPU
    assert found.users == 20
    assert "98% of the CPU reservation" in found.summary
    assert "busiest task 100%" in found.summary
    assert "p95 4.00 s" in found.summary


def test_the_generator_comes_first() -> None:
    found = name_bottleneck(run_of(saturating(generator_cpu=93.0, cpu_utilization=99.0)))
    assert found.part is Part.GENERATOR
    assert "93% of a core" in found.summary
    bound = name_bottleneck(run_of(saturating(generator_bound=True)))
    assert bound.part is Part.GENERATOR


def test_spare_cpu_with_flat_throughput_points_at_the_shared_database() -> None:
    found = name_bottleneck(run_of(saturating(cpu_utilization=40.0)))
    assert found.part is Part.DATABASE
    assert "inferred" in found.summary and "40%" in found.summary
    assert "throughput stops growing" in found.summary


def test_memory_near_the_limit_is_named_and_half_used_memory_is_not() -> None:
    # 97% of the limit: the kernel reclaims and the task is about to be killed
    full = name_bottleneck(run_of(saturating(memory_utilization=97.0)))
    assert full.part is Part.TASK_MEMORY
    assert "memory at 97% of the limit at 20 users" in full.summary
    # half the limit used: room to spare, so the flat throughput comes from elsewhere
    assert name_bottleneck(run_of(saturating(memory_utilization=50.0))).part is Part.DATABASE


def test_time_lost_between_client_and_tasks_points_at_haproxy() -> None:
    window = [T0 + 120 + 12 + i for i in range(48)]
    latency = Series(tuple(window), tuple([2000.0] * 48))  # clients wait 2 s ...
    backend = Series(tuple(window), tuple([0.1] * 48))  # ... tasks answer HAProxy in 100 ms
    found = name_bottleneck(run_of(saturating(), latency=latency, lb_response_time=backend))
    assert found.part is Part.LOAD_BALANCER
    assert "2000 ms" in found.summary and "100 ms" in found.summary
    close = Series(tuple(window), tuple([1.95] * 48))
    other = name_bottleneck(run_of(saturating(), latency=latency, lb_response_time=close))
    assert other.part is Part.DATABASE


def test_linear_growth_within_the_slo_limits_nothing_yet() -> None:
    steps = [
        step(1, 0, rps=0.6, p95_ms=300.0, cpu_utilization=10.0),
        step(5, 1, rps=3.0, p95_ms=320.0, cpu_utilization=40.0),
    ]
    assert name_bottleneck(run_of(steps)).part is Part.NOTHING_YET


def test_without_cpu_figures_the_part_is_unknown() -> None:
    found = name_bottleneck(run_of(saturating(cpu_utilization=None)))
    assert found.part is Part.UNKNOWN
    assert name_bottleneck(run_of([])).part is Part.UNKNOWN
