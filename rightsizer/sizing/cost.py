"""What a size costs for a target load: tasks needed, dollars an hour and a month, and dollars
per 1,000 users per hour.

A task is planned at (1 - headroom) of the users it served at the SLO, as the demo plans it
(rightsizer.analysis.capacity). Dollars per 1,000 users per hour are one task-hour's price
over the users one task carries with that headroom, so sizes compare without the rounding of
a whole fleet: `task_hour / (users_per_task x (1 - headroom)) x 1000`.

    cost = size_cost(TaskSize(0.25, 512), users_per_task=20, prices=prices,
                     target_users=2000, headroom=0.3)
    cost.tasks, cost.month, cost.per_1000_users_hour
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from rightsizer.analysis.capacity import tasks_needed
from rightsizer.sizing.prices import Prices
from rightsizer.sizing.task_size import TaskSize

# AWS's own convention for a month of on-demand use (365 x 24 / 12).
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class SizeCost:
    """For `target_users` at `headroom`: `tasks` of one size, `task_hour` dollars each, the
    fleet's `hour` and `month`, and `per_1000_users_hour` (see the module's docstring)."""

    task_hour: float
    tasks: int
    hour: float
    month: float
    per_1000_users_hour: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SizeCost:
        return cls(
            task_hour=float(raw["task_hour"]),
            tasks=int(raw["tasks"]),
            hour=float(raw["hour"]),
            month=float(raw["month"]),
            per_1000_users_hour=float(raw["per_1000_users_hour"]),
        )


def size_cost(
    size: TaskSize,
    *,
    users_per_task: float,
    prices: Prices,
    target_users: int,
    headroom: float,
) -> SizeCost:
    """The cost of serving `target_users` on tasks of `size` that each carry `users_per_task`
    at the SLO (> 0), keeping `headroom` (0 <= headroom < 1) of each free."""
    task_hour = prices.task_hour(size)
    tasks = tasks_needed(users_per_task, target_users, headroom)
    hour = tasks * task_hour
    return SizeCost(
        task_hour=task_hour,
        tasks=tasks,
        hour=hour,
        month=hour * HOURS_PER_MONTH,
        per_1000_users_hour=task_hour / (users_per_task * (1 - headroom)) * 1000,
    )
