from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from rightsizer.alarms.history import HistoryItem
from rightsizer.analysis.answer import Answer, build_answer
from rightsizer.analysis.bottleneck import name_bottleneck
from rightsizer.analysis.capacity import tasks_needed
from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.limit import limit_of_steps
from rightsizer.analysis.run import Alarm, load_run
from rightsizer.analysis.slo import users_at_slo
from rightsizer.analysis.steps import Step, load_points
from tests.analysis.helpers import T0, fixture_run, fleet, run_of, step


@pytest.fixture
def answer(tmp_path: Path) -> Answer:
    one = load_run(fixture_run(tmp_path, "run-1-task"))
    four = load_run(fixture_run(tmp_path, "run-4-tasks"))
    return build_answer(one, four, recommended_threshold=45.0, threshold_lead_s=10.0)


def test_the_answer_is_made_of_the_runs_figures(tmp_path: Path, answer: Answer) -> None:
    one = load_run(fixture_run(tmp_path / "again", "run-1-task"))
    four = load_run(fixture_run(tmp_path / "again", "run-4-tasks"))
    limit = users_at_slo(one.steps, one.slo)
    assert limit.users is not None
    # users per task are whole: the estimate, rounded down (the fixture breaks the SLO)
    assert answer.users_per_task == math.floor(limit.users / (one.tasks or 1))
    assert answer.tasks_needed == tasks_needed(answer.users_per_task, 2000, 0.3)
    bracket = limit_of_steps(one.steps, one.slo)
    assert (answer.users_low, answer.users_high) == (bracket.low, bracket.high)
    assert answer.users_low is not None and answer.users_high is not None
    assert answer.users_low <= answer.users_per_task <= answer.users_high
    # judged by the SLO the run recorded, not the default
    assert (answer.slo_p95_ms, answer.slo_failure_pct) == tuple(one.manifest["slo"].values())
    assert answer.users_interpolated == limit.interpolated
    knee_one = find_knee(load_points(one.steps))
    knee_four = find_knee(load_points(four.steps))
    assert knee_one and knee_four
    # kept to the two decimals every page prints
    assert answer.throughput_ratio == round(knee_four.peak_throughput / knee_one.peak_throughput, 2)
    assert answer.scaling_tasks == (one.tasks, four.tasks)
    assert answer.limiting_part == name_bottleneck(four).part.value
    if knee_one.reached and knee_four.reached:
        assert answer.usl_sigma is not None and 0 <= answer.usl_sigma <= 1
        assert answer.usl_kappa == 0.0  # two task counts cannot identify kappa
    else:  # peaks below the knee are the loads' and say nothing of scaling
        assert answer.usl_sigma is None and answer.tasks_needed_usl is None
        assert any("reached neither the knee nor the SLO" in note for note in answer.notes)


def test_the_answer_survives_a_json_round_trip(answer: Answer) -> None:
    assert Answer.from_dict(answer.to_dict()) == answer
    assert Answer.from_dict({**answer.to_dict(), "from_the_future": 1}) == answer


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
    assert one.users_interpolated and "interpolated" in one.lines()[0]


def test_an_external_target_gets_no_per_task_figures() -> None:
    host = run_of(BREAKING, target={"kind": "host", "url": "http://example.test"})
    answer = build_answer(host, run_of(BREAKING, tasks=4))
    assert answer.users_per_task is None and answer.knee_users is None
    assert answer.tasks_needed is None and answer.scaling_tasks is None
    assert answer.throughput_ratio is None
    assert any("external target, tasks unknown" in note for note in answer.notes)
    assert "Scaling (task count unknown)" in "\n".join(answer.lines())
    assert Answer.from_dict(answer.to_dict()) == answer


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
    """Short steps end before the queue past the knee breaks the SLO: the answer takes the
    knee, not the most users that happened to stay within it."""
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
    assert any("past the knee" in note for note in answer.notes)
    assert Answer.from_dict(answer.to_dict()) == answer
