"""How many tasks serve a target number of users, with headroom.

Headroom is the share of each task's measured capacity kept free for bursts, deploys and the
loss of a task: with 30% headroom a task is planned at 70% of the users it served at the SLO,
so `tasks = ceil(target / (users_per_task * (1 - headroom)))`.

That assumes tasks scale linearly. With a USL fit across task counts, `plan_capacity` also
finds the smallest N whose predicted capacity covers the target, or says that no N does (the
shared part, e.g. the database, caps the whole service).

    tasks_needed(5.0, 2000, 0.3)            # 572
    plan_capacity(5.0, 2000, 0.3, usl=fit)  # .linear_tasks, .usl_tasks, .usl_max_users
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rightsizer.analysis.usl import UslFit

DEFAULT_TARGET_USERS = 2000
DEFAULT_HEADROOM = 0.3
# Beyond this, a plan is not a plan; the search stops and reports "not reachable".
MAX_TASKS = 100_000


def tasks_needed(
    users_per_task: float,
    target_users: float = DEFAULT_TARGET_USERS,
    headroom: float = DEFAULT_HEADROOM,
) -> int:
    """Tasks for `target_users` if each task serves `users_per_task` at the SLO, keeping
    `headroom` (0 <= headroom < 1) of every task free. At least one task."""
    _check(users_per_task, target_users, headroom)
    # A tiny epsilon keeps exact quotients (1000 / 5 / 0.8 = 250.00000000000003) exact.
    return max(1, math.ceil(target_users / (users_per_task * (1 - headroom)) - 1e-9))


@dataclass(frozen=True)
class CapacityPlan:
    """Tasks for a target: `linear_tasks` assumes N tasks serve N times one task's users;
    `usl_tasks` follows the fitted law (None without a fit, or when the target is beyond what
    any N reaches, then `usl_max_users` is the most the law allows, with headroom)."""

    target_users: float
    headroom: float
    users_per_task: float
    linear_tasks: int
    usl_tasks: int | None = None
    usl_max_users: float | None = None

    @property
    def reachable(self) -> bool:
        """False when the USL says no number of tasks reaches the target."""
        return self.usl_max_users is None or self.usl_tasks is not None


def plan_capacity(
    users_per_task: float,
    target_users: float = DEFAULT_TARGET_USERS,
    headroom: float = DEFAULT_HEADROOM,
    usl: UslFit | None = None,
) -> CapacityPlan:
    """Linear and (with `usl`) USL-based task counts for `target_users`."""
    linear = tasks_needed(users_per_task, target_users, headroom)
    if usl is None:
        return CapacityPlan(target_users, headroom, users_per_task, linear)

    def users_with(n: int) -> float:
        # One task's users at the SLO, scaled by the law's throughput ratio C(N) / C(1).
        return users_per_task * usl.predict(n) / usl.predict(1) * (1 - headroom)

    top = MAX_TASKS if usl.peak_n is None else min(MAX_TASKS, max(1, math.floor(usl.peak_n)))
    if top < MAX_TASKS and users_with(top + 1) > users_with(top):
        top += 1  # the real-valued peak lies between two task counts
    best = users_with(top)
    if best < target_users:
        return CapacityPlan(target_users, headroom, users_per_task, linear, None, best)
    low, high = 1, top  # users_with rises up to the peak: binary search the first N
    while low < high:
        middle = (low + high) // 2
        if users_with(middle) >= target_users:
            high = middle
        else:
            low = middle + 1
    return CapacityPlan(target_users, headroom, users_per_task, linear, low, best)


def _check(users_per_task: float, target_users: float, headroom: float) -> None:
    if not users_per_task > 0:
        raise ValueError(f"users per task must be > 0, got {users_per_task}")
    if not target_users > 0:
        raise ValueError(f"target users must be > 0, got {target_users}")
    if not 0 <= headroom < 1:
        raise ValueError(f"headroom must be within [0, 1), got {headroom}")
