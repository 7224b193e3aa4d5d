from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from rightsizer.alarms.history import HistoryItem
from rightsizer.analysis.answer import Answer, build_answer
from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.recorded_run import Alarm, load_run
from rightsizer.analysis.step_points import load_points
from rightsizer.stepsfile import Step
from tests.analysis.helpers import T0, fixture_run, fleet, run_of, step


@pytest.fixture
def answer(tmp_path: Path) -> Answer:
    one = load_run(fixture_run(tmp_path, "run-1-task"))
    four = load_run(fixture_run(tmp_path, "run-4-tasks"))
    return build_answer(one, four, recommended_threshold=45.0, threshold_lead_s=10.0)


def test_the_answer_is_made_of_the_runs_figures() -> None:
    # Hand-built: 1 task grows linearly (0.5 rps per user) to 40 users, then flattens at 22
    # rps; 4 tasks do the same at 4x the users and flatten at 80 rps.
    one = run_of(BREAKING, tasks=1)
    four = run_of(
        [
            step(40, 0, rps=20.0, p95_ms=100.0, fail_ratio=0.0, cpu_utilization=20.0),
            step(160, 1, rps=80.0, p95_ms=600.0, fail_ratio=0.0, cpu_utilization=80.0),
            step(320, 2, rps=66.0, p95_ms=2600.0, fail_ratio=0.0, cpu_utilization=99.0),
        ],
        tasks=4,
    )
    answer = build_answer(one, four)
    # SLO p95 < 1000 ms breaks between 40 users (600 ms) and 80 (2600 ms), at 40 + 40 x
    # 400/2000 = 48; the line 0.5 rps per user meets the 22 rps plateau at 44 users, first.
    assert (answer.users_low, answer.users_high) == (40, 80)
    assert answer.knee_reached and answer.knee_users == 44
    assert answer.users_per_task == 44 and answer.users_at_knee and not answer.users_interpolated
    assert answer.cpu_at_slo == pytest.approx(81.9)  # 80% + 19 points x 4/40 at 44 users
    # 2000 users, 30% headroom: 44 x 0.7 = 30.8 users per task, so 65 tasks.
    assert answer.tasks_needed == 65
    # Peaks 80 / 22 rps; Amdahl (kappa 0): 4 / (1 + 3 sigma) = 80/22 gives sigma = 0.1/3.
    assert answer.scaling_tasks == (1, 4) and answer.throughput_ratio == 3.64
    assert answer.usl_kappa == 0.0 and answer.usl_sigma == pytest.approx(0.1 / 3, abs=0.001)
    assert answer.limiting_part == "tasks' CPU"  # 99% of the reservation at the top step


def test_where_the_slo_breaks_before_the_knee_the_slo_is_the_limit() -> None:
    # As BREAKING, but 900 ms at 40 users: the SLO breaks at 40 + 40 x 100/1700 = 42.4 users,
    # before the knee at 44.
    early = [dataclasses.replace(s, p95_ms=900.0) if s.users == 40 else s for s in BREAKING]
    answer = build_answer(run_of(early, tasks=1))
    assert answer.knee_users == 44
    assert answer.users_per_task == 42 and answer.users_interpolated and not answer.users_at_knee


def test_peaks_below_the_knee_say_nothing_of_scaling() -> None:
    linear = [step(n, i, rps=n / 2, p95_ms=100.0, fail_ratio=0.0) for i, n in enumerate((10, 20))]
    answer = build_answer(run_of(linear, tasks=1), run_of(linear, tasks=4))
    assert answer.usl_sigma is None and answer.tasks_needed_usl is None
    assert any("reached neither the knee nor the SLO" in note for note in answer.notes)


def test_the_answer_survives_a_json_round_trip(answer: Answer) -> None:
    assert Answer.from_json(answer.to_json()) == answer
    assert Answer.from_json({**answer.to_json(), "from_the_future": 1}) == answer


def test_the_printed_answer_carries_the_numbers(answer: Answer) -> None:
    text = "\n".join(answer.lines())
    assert f"{answer.users_low}-{answer.users_high} (" in text
    assert f"≈ {answer.users_per_task} interpolated" in text
    assert "45% (seed: 20%)" in text
    assert f"{answer.tasks_needed:.0f} if tasks scaled linearly" in text
    assert f"x{answer.throughput_ratio:.2f}" in text
    assert f"Alarm {answer.alarm_name} back to OK after the load: yes" in text
    assert answer.alarm_name == "uploader-cpu-high"


def test_a_single_run_still_answers_what_it_can(tmp_path: Path) -> None:
    one = load_run(fixture_run(tmp_path, "run-1-task"))
    alone = build_answer(one)
    assert alone.throughput_ratio is None and alone.usl_sigma is None
    assert alone.users_per_task is not None and math.isfinite(alone.users_per_task)
    assert "not measured" in "\n".join(alone.lines())


def _history(name: str, *states: tuple[float, str]) -> tuple[HistoryItem, ...]:
    items, old = [], "INSUFFICIENT_DATA"
    for ts, new in states:
        items.append(HistoryItem(name, T0 + ts, old, new, "reason", {}))
        old = new
    return tuple(items)


BREAKING = [
    step(10, 0, rps=5.0, p95_ms=100.0, fail_ratio=0.0, cpu_utilization=20.0),
    step(40, 1, rps=20.0, p95_ms=600.0, fail_ratio=0.0, cpu_utilization=80.0),
    step(80, 2, rps=22.0, p95_ms=2600.0, fail_ratio=0.0, cpu_utilization=99.0),
]


def test_the_cpu_alarm_is_the_one_reported_not_the_alphabetically_first() -> None:
    memory = Alarm(
        "a-memory-high",
        {"MetricName": "MemoryUtilization"},
        _history("a-memory-high", (30, "ALARM")),
    )
    cpu = Alarm(
        "uploader-cpu-high",
        {"MetricName": "CPUUtilization"},
        _history("uploader-cpu-high", (10, "OK"), (60, "ALARM"), (200, "OK")),
    )
    run = run_of(BREAKING, alarms=(memory, cpu), manifest_extra={"load_end": T0 + 180})
    answer = build_answer(run)
    assert (answer.alarm_name, answer.alarm_returned_to_ok) == ("uploader-cpu-high", True)
    assert "Alarm uploader-cpu-high back to OK after the load: yes" in answer.lines()
    only_memory = build_answer(run_of(BREAKING, alarms=(memory,)))
    assert (only_memory.alarm_name, only_memory.alarm_returned_to_ok) == ("a-memory-high", False)
    assert any("no CPU alarm" in note and "a-memory-high" in note for note in only_memory.notes)


def test_users_are_divided_by_the_fleet_s_task_count() -> None:
    one = build_answer(run_of(BREAKING, tasks=1))
    four = build_answer(run_of(BREAKING, tasks=4))
    assert one.users_per_task is not None and four.users_per_task is not None
    assert four.users_per_task == math.floor(one.users_per_task / 4)
    assert one.users_at_knee and "the knee" in one.lines()[0]


def test_an_external_target_gets_no_per_task_figures() -> None:
    host = run_of(BREAKING, target={"kind": "host", "url": "http://example.test"})
    answer = build_answer(host, run_of(BREAKING, tasks=4))
    assert answer.users_per_task is None and answer.knee_users is None
    assert answer.tasks_needed is None and answer.scaling_tasks is None
    assert answer.throughput_ratio is None
    assert any("external target, tasks unknown" in note for note in answer.notes)
    assert "Scaling (task count unknown)" in "\n".join(answer.lines())
    assert Answer.from_json(answer.to_json()) == answer


def test_an_uncapped_fleet_is_flagged_in_the_answer() -> None:
    uncapped = run_of(BREAKING, target=fleet(1, capped=False))
    answer = build_answer(uncapped)
    assert answer.users_per_task is not None
    assert any("UNCAPPED" in note for note in answer.notes)


def test_a_limit_not_reached_is_a_lower_bound_that_says_why() -> None:
    held = build_answer(run_of(BREAKING[:2]))
    assert not held.users_interpolated and held.users_per_task == 40
    assert (held.users_low, held.users_high) == (40, None)
    assert "≥ 40 (a lower bound: no step up to 40 users" in held.lines()[0]
    assert held.bound_reason is not None and held.bound_reason in held.lines()[0]
    assert any("lower bound" in note for note in held.notes)
    generator = [*BREAKING[:1], dataclasses.replace(BREAKING[1], generator_bound=True)]
    bound = build_answer(run_of(generator))
    assert bound.bound_reason is not None and "load generator" in bound.bound_reason


def saturating(tasks: int) -> list[Step]:
    """Throughput grows 0.6 rps per user, then flattens at 4.6 rps per task."""
    users = [1 * tasks, 5 * tasks, 20 * tasks]
    rps = [0.6 * tasks, 3.0 * tasks, 4.6 * tasks * (0.9 if tasks > 1 else 1.0)]
    p95 = [100.0, 600.0, 3000.0]
    return [
        step(u, i, rps=r, p95_ms=p, fail_ratio=0.0)
        for i, (u, r, p) in enumerate(zip(users, rps, p95, strict=True))
    ]


def test_the_usl_is_fitted_only_between_two_measured_knees() -> None:
    fitted = build_answer(run_of(saturating(1)), run_of(saturating(4), tasks=4))
    assert fitted.knee_reached and fitted.throughput_ratio == pytest.approx(4 * 0.9)
    assert fitted.usl_sigma is not None and 0 < fitted.usl_sigma < 0.1
    assert any("kappa" in note for note in fitted.notes)
    light = [s for s in saturating(4) if s.users < 80]  # 4 tasks never reached their knee
    unfitted = build_answer(run_of(saturating(1)), run_of(light, tasks=4))
    assert unfitted.throughput_ratio is not None and unfitted.usl_sigma is None
    assert any("4 tasks reached neither the knee nor the SLO" in note for note in unfitted.notes)


def test_a_fleet_that_broke_its_slo_counts_as_measured_for_the_usl() -> None:
    """4 tasks that break the SLO before their CPU saturates (a shared database) still have a
    capacity: the peak before the break. The USL is fitted on it."""

    def broken(steps: list[Step]) -> list[Step]:
        last = steps[-1]
        return [*steps[:-1], dataclasses.replace(last, p95_ms=5000.0)]

    light = [s for s in saturating(4) if s.users < 80]
    answer = build_answer(run_of(saturating(1)), run_of(broken(light), tasks=4))
    assert answer.usl_sigma is not None
    assert not any("reached neither" in note for note in answer.notes)


def test_an_slo_held_past_the_knee_gives_the_knee() -> None:
    """Past the knee each added user only waits, though a closed test's SLO may hold there:
    the answer takes the knee, not the most users that happened to stay within it."""
    held = [dataclasses.replace(s, p95_ms=300.0, cpu_utilization=90.0) for s in saturating(1)]
    answer = build_answer(run_of(held))
    knee = find_knee(load_points(held))
    assert knee is not None and knee.reached and knee.users < 20
    assert answer.users_at_knee and answer.users_per_task == math.floor(knee.users)
    # the first bad step is the one past the knee, though it held the SLO
    assert answer.users_high == 20 and answer.users_low == 5
    assert (
        f"5-20 (last good step to first bad step; ≈ {answer.users_per_task} the knee)"
        in (answer.lines()[0])
    )
    assert any("taken at the knee, before the SLO broke" in note for note in answer.notes)
    assert Answer.from_json(answer.to_json()) == answer
