"""Cost of a size for a target: figures worked by hand."""

from __future__ import annotations

import pytest

from rightsizer.sizing.cost import SizeCost, size_cost
from rightsizer.sizing.prices import Prices
from rightsizer.sizing.task_size import TaskSize

PRICES = Prices(0.04, 0.004, "test")


def test_small_task_cost_for_a_target() -> None:
    # 0.25 vCPU / 512 MiB: 0.01 + 0.002 = $0.012 a task-hour. 20 users with 30% headroom is
    # 14 users a task: 2000 users need ceil(142.86) = 143 tasks, $1.716 an hour, x 730 a month.
    cost = size_cost(
        TaskSize(0.25, 512), users_per_task=20, prices=PRICES, target_users=2000, headroom=0.3
    )
    assert cost.task_hour == pytest.approx(0.012)
    assert cost.tasks == 143
    assert cost.hour == pytest.approx(1.716)
    assert cost.month == pytest.approx(1252.68)
    assert cost.per_1000_users_hour == pytest.approx(0.012 / 14 * 1000)


def test_no_headroom_and_exact_division() -> None:
    # 1 vCPU / 2048 MiB: 0.04 + 0.008 = 0.048; 100 users a task, 1000 users: exactly 10 tasks.
    cost = size_cost(
        TaskSize(1, 2048), users_per_task=100, prices=PRICES, target_users=1000, headroom=0.0
    )
    assert cost.tasks == 10
    assert cost.per_1000_users_hour == pytest.approx(0.48)


def test_json_round_trip() -> None:
    cost = size_cost(
        TaskSize(0.5, 1024), users_per_task=7, prices=PRICES, target_users=50, headroom=0.2
    )
    assert SizeCost.from_json(cost.to_json()) == cost
