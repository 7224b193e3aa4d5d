from __future__ import annotations

import pytest

from rightsizer.analysis.capacity import plan_capacity, tasks_needed
from rightsizer.analysis.usl import UslFit


def usl(sigma: float, kappa: float, lam: float = 10.0) -> UslFit:
    return UslFit(sigma, kappa, lam, 3, 0.0, 0.0, None, kappa_identified=True)


def test_headroom_is_the_share_of_each_task_kept_free() -> None:
    # 5 users per task, 30% kept free: 3.5 users a task, 2000 / 3.5 = 571.4 -> 572.
    assert tasks_needed(5.0, 2000, 0.3) == 572
    assert tasks_needed(5.0, 1000, 0.2) == 250  # exactly 250, not 251 from rounding noise
    assert tasks_needed(5.0, 1000, 0.0) == 200
    assert tasks_needed(500.0, 10, 0.3) == 1


@pytest.mark.parametrize(
    ("upt", "target", "headroom"), [(0.0, 10, 0.3), (5.0, 0, 0.3), (5.0, 10, 1.0), (5, 10, -0.1)]
)
def test_bad_inputs_are_refused(upt: float, target: int, headroom: float) -> None:
    with pytest.raises(ValueError):
        tasks_needed(upt, target, headroom)


def test_without_a_fit_only_the_linear_plan_is_given() -> None:
    plan = plan_capacity(5.0, 2000, 0.3)
    assert (plan.linear_tasks, plan.usl_tasks, plan.reachable) == (572, None, True)


def test_perfect_scaling_makes_the_usl_plan_equal_the_linear_one() -> None:
    plan = plan_capacity(5.0, 2000, 0.3, usl(0.0, 0.0))
    assert plan.usl_tasks == plan.linear_tasks == 572


def test_the_usl_plan_is_the_smallest_task_count_that_covers_the_target() -> None:
    # 5 users per task at 70%: 3.5 N / (1 + 0.02 (N - 1)) users on N tasks. 65 tasks carry
    # 227.5 / 2.28 = 99.8 users, 66 carry 231 / 2.3 = 100.4; linearly 100 / 3.5 -> 29 tasks.
    plan = plan_capacity(5.0, 100, 0.3, usl(0.02, 0.0))
    assert (plan.usl_tasks, plan.linear_tasks) == (66, 29)  # contention costs tasks


def test_a_target_beyond_the_peak_is_not_reachable() -> None:
    fit = usl(0.1, 0.01)  # peak at sqrt(0.9 / 0.01) = 9.5 tasks
    plan = plan_capacity(5.0, 2000, 0.3, fit)
    assert plan.usl_tasks is None and not plan.reachable
    # 9 and 10 tasks both give 9 / 2.52 = 10 / 2.8 = 25/7 times one task: 3.5 x 25/7 users.
    assert plan.usl_max_users == pytest.approx(12.5)
