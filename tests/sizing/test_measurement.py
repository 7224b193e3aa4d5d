"""One size's figures from a run: users per task, CPU and memory at the limit, peak memory."""

from __future__ import annotations

import pytest

from rightsizer.analysis.time_series import Series
from rightsizer.sizing.measurement import SizeMeasurement, measure
from rightsizer.sizing.task_size import TaskSize
from tests.analysis.helpers import T0, run_of, step


def test_figures_of_a_run_that_broke_the_slo() -> None:
    # p95 600 ms at 10 users, 2600 ms at 30: the SLO (p95 < 1000 ms) breaks a fifth of the
    # way, at 14 users, where CPU is 50 + 40/5 = 58% and memory 20 + 20/5 = 24% of 512 MiB
    # (122.88 MiB).
    figures = {"fail_ratio": 0.0}
    steps = [
        step(
            10, 0, rps=5.0, p95_ms=600.0, cpu_utilization=50.0, memory_utilization=20.0, **figures
        ),
        step(
            30, 1, rps=15.0, p95_ms=2600.0, cpu_utilization=90.0, memory_utilization=40.0, **figures
        ),
    ]
    memory = Series((T0, T0 + 60, T0 + 90), (20.0, 62.5, 40.0))  # peak 62.5% = 320 MiB
    run = run_of(steps, task_memory={"1": memory}, service_memory=memory)
    measured = measure(run, TaskSize(0.25, 512), workers=1)
    assert measured.users_per_task == 14
    assert measured.limit_reached
    assert measured.cpu_at_limit == pytest.approx(58.0)
    assert measured.memory_at_limit_mb == pytest.approx(122.9)
    assert measured.peak_memory_mb == pytest.approx(320.0)
    assert measured.workers == 1
    assert SizeMeasurement.from_json(measured.to_json()) == measured


def test_a_run_that_never_broke_is_a_lower_bound() -> None:
    steps = [
        step(10, 0, rps=5.0, p95_ms=100.0, cpu_utilization=20.0, fail_ratio=0.0),
        step(20, 1, rps=10.0, p95_ms=110.0, cpu_utilization=40.0, fail_ratio=0.0),
    ]
    measured = measure(run_of(steps), TaskSize(1, 2048), workers=2)
    assert measured.users_per_task == 20
    assert not measured.limit_reached
    assert measured.peak_memory_mb is None


def test_the_curve_and_the_alarm_threshold_of_the_run() -> None:
    # U* = 14 (as above). The alarm rule fires at U* - g x T = 14 - 1.4 users/min x 3 min =
    # 9.8 users, where the curve (straight from 0 to 50% at 10 users) reads 49%.
    figures = {"fail_ratio": 0.0}
    steps = [
        step(10, 0, rps=5.0, p95_ms=600.0, cpu_utilization=50.0, **figures),
        step(30, 1, rps=15.0, p95_ms=2600.0, cpu_utilization=90.0, **figures),
    ]
    measured = measure(run_of(steps), TaskSize(0.25, 512), workers=1)
    assert measured.cpu_curve == ((10.0, 50.0), (30.0, 90.0))
    assert (measured.alarm_users, measured.alarm_threshold) == (9, 49.0)
    assert measured.cpu_at(20) == pytest.approx(70.0)
    assert measured.cpu_at(5) == pytest.approx(25.0)
    assert measured.cpu_at(31) is None
