from __future__ import annotations

import numpy as np
import pytest

from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.step_points import LoadPoint


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


# Real `--users auto` searches on one 0.25-vCPU task here: (users, rps, requests in the
# steady window) per step, the highest linear step, and where N* must land.
MEASURED = {
    # two steps past saturation must not pull the line down to meet them
    "two-past-the-knee": (
        [(30, 20.9, 88), (141, 92.7, 390), (186, 124.1, 522), (223, 145.7, 613),
         (331, 162.2, 683), (365, 178.9, 753)],
        223, (250, 300),
    ),
    # a quick demo: 702 and 843 users carried the same throughput, so the plateau began by
    # 702 although 843 is only 17% below the line
    "plateau-just-past": (
        [(60, 40.7, 200), (217, 140.6, 693), (375, 242.5, 1190), (562, 364.9, 1791),
         (702, 449.5, 2207), (843, 452.2, 2219)],
        702, (690, 720),
    ),
    # a default demo: 800, 920 and 980 users ran 10-15% below the line (too little to call
    # them saturated, so they join the linear part); the rate per user must stay that of the
    # steps below (0.66), not bend towards theirs, or N* lands at 937 instead of ~830
    "near-knee-steps-keep-the-line": (
        [(10, 6.9, 78), (80, 52.4, 590), (250, 163.5, 1844), (440, 292.8, 3303),
         (615, 405.8, 4572), (800, 477.3, 5378), (1040, 502.4, 5660), (920, 548.3, 6184),
         (980, 506.9, 5712)],
        920, (800, 870),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MEASURED))
def test_measured_searches_have_their_knee_where_the_lines_meet(case: str) -> None:
    measured, last_linear, (low, high) = MEASURED[case]
    knee = find_knee([LoadPoint(u, x, r) for u, x, r in measured])
    assert knee is not None and knee.reached
    assert knee.last_linear_users == last_linear
    assert low < knee.users < high


def test_a_step_close_above_the_top_is_no_plateau() -> None:
    """5% more users and the same throughput: within the noise of two short steps."""
    measured = [(100, 65.0, 320), (200, 130.0, 640), (210, 130.5, 650)]
    knee = find_knee([LoadPoint(u, x, r) for u, x, r in measured])
    assert knee is not None and not knee.reached


@pytest.mark.parametrize(
    ("share", "reached"), [(0.5, True), (0.7, True), (0.97, False), (1.0, False)]
)
def test_a_top_step_far_below_the_line_is_past_the_knee_and_one_on_it_is_not(
    share: float, reached: bool
) -> None:
    """Exact figures (no counts): 0.5 requests/s a user up to 40 users, then a top step at
    80 users carrying `share` of the 40 a straight line gives. Half or 70% of the line is a
    saturated service; 3% short is the jitter of any measured step."""
    points = [LoadPoint(n, 0.5 * n) for n in (5, 10, 20, 40)] + [LoadPoint(80, 40.0 * share)]
    knee = find_knee(points)
    assert knee is not None and knee.reached is reached
    assert knee.last_linear_users == (40 if reached else 80)


@pytest.mark.parametrize(("more_users", "reached"), [(1.3, True), (1.15, True), (1.02, False)])
def test_flat_throughput_with_clearly_more_users_is_a_plateau(
    more_users: float, reached: bool
) -> None:
    """A top step with `more_users` times the users of the one below and the same throughput,
    both on 20,000 requests (1% noise). A closed system on its linear part carries 20-30% more
    with 20-30% more users, so the same figure there is the plateau (even though it is still
    within 15% of the line); 2% more users add less than the noise can show."""
    points = [LoadPoint(100, 50.0, 10_000), LoadPoint(200, 100.0, 20_000)]
    points.append(LoadPoint(round(200 * more_users), 100.0, 20_000))
    knee = find_knee(points)
    assert knee is not None and knee.reached is reached
