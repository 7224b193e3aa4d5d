from __future__ import annotations

import numpy as np
import pytest

from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.steps import LoadPoint


def mva_throughput(demand: float, think: float, users: int) -> list[float]:
    """Exact mean value analysis of one queue with `users` closed-loop users: X(1..users)."""
    queue, out = 0.0, []
    for n in range(1, users + 1):
        response = demand * (1 + queue)
        throughput = n / (response + think)
        queue = throughput * response
        out.append(throughput)
    return out


def test_a_clean_hockey_stick_has_its_knee_where_the_lines_meet() -> None:
    # X = min(0.5 N, 10): the knee is at 10 / 0.5 = 20 users.
    points = [LoadPoint(n, min(0.5 * n, 10.0)) for n in (1, 2, 4, 8, 16, 32, 64)]
    knee = find_knee(points)
    assert knee is not None
    assert knee.users == pytest.approx(20.0)
    assert knee.peak_throughput == 10.0
    assert knee.per_user_throughput == pytest.approx(0.5)
    assert knee.reached
    assert knee.last_linear_users == 16


@pytest.mark.parametrize("users", [(1, 5, 10, 20, 40, 60, 80), (1, 2, 4, 8, 16, 32, 64)])
def test_a_closed_queue_has_its_knee_near_n_star(users: tuple[int, ...]) -> None:
    # Operational analysis: N* = (D + Z) / D = 31 users for D = 0.1 s, Z = 3 s.
    demand, think = 0.1, 3.0
    curve = mva_throughput(demand, think, max(users))
    knee = find_knee([LoadPoint(n, curve[n - 1]) for n in users])
    assert knee is not None and knee.reached
    assert knee.users == pytest.approx((demand + think) / demand, rel=0.15)
    assert knee.peak_throughput == pytest.approx(1 / demand, rel=0.01)


def test_linear_growth_has_no_knee_yet() -> None:
    knee = find_knee([LoadPoint(n, 0.3 * n) for n in (1, 3, 5, 10)])
    assert knee is not None
    assert not knee.reached
    assert knee.users == pytest.approx(10.0)  # a lower bound: the highest step


def test_noise_does_not_move_the_knee_far() -> None:
    rng = np.random.default_rng(7)
    users = (1, 2, 4, 8, 12, 16, 24, 32, 48)
    points = [LoadPoint(n, min(0.4 * n, 6.0) * rng.uniform(0.95, 1.05)) for n in users]
    knee = find_knee(points)
    assert knee is not None and knee.reached
    assert knee.users == pytest.approx(15.0, rel=0.12)


def test_no_usable_point_gives_none() -> None:
    assert find_knee([]) is None
    assert find_knee([LoadPoint(5, 0.0), LoadPoint(0, 3.0)]) is None


def test_efficiency_is_the_share_of_linear_growth() -> None:
    knee = find_knee([LoadPoint(n, min(0.5 * n, 10.0)) for n in (1, 2, 40)])
    assert knee is not None
    assert knee.efficiency(LoadPoint(40, 10.0)) == pytest.approx(0.5)


def test_a_noisy_small_first_step_does_not_fake_a_knee() -> None:
    # Figures of a real 15 s-step run: 1 user's rate rests on 10 requests only.
    steps = [LoadPoint(1, 0.83, 10), LoadPoint(4, 2.5, 30), LoadPoint(8, 5.16, 62)]
    knee = find_knee(steps)
    assert knee is not None and not knee.reached
    assert knee.users == pytest.approx(8.0, rel=0.05)
    # Two steps: without the counts, 4 users look 25% below 1 user's rate ...
    assert find_knee([LoadPoint(1, 0.83), LoadPoint(4, 2.5)]).reached  # type: ignore[union-attr]
    # ... with them, that is within the noise of 10 requests.
    assert not find_knee(steps[:2]).reached  # type: ignore[union-attr]


def test_a_real_plateau_is_found_through_the_noise() -> None:
    steps = [LoadPoint(5, 2.5, 60), LoadPoint(20, 10.5, 252), LoadPoint(40, 12.9, 310)]
    knee = find_knee(steps)
    assert knee is not None and knee.reached
    assert knee.last_linear_users == 20


def test_two_steps_past_the_knee_do_not_hide_it() -> None:
    """A real `--users auto` search on one 0.25-vCPU task (requests in the steady windows):
    two steps past saturation must not pull the line down to meet them."""
    measured = [(30, 20.9, 88), (141, 92.7, 390), (186, 124.1, 522), (223, 145.7, 613),
                (331, 162.2, 683), (365, 178.9, 753)]  # fmt: skip
    knee = find_knee([LoadPoint(u, x, r) for u, x, r in measured])
    assert knee is not None and knee.reached
    assert knee.last_linear_users == 223
    assert 250 < knee.users < 300
