from __future__ import annotations

import math
from pathlib import Path

import pytest

from rightsizer.analysis.answer import Answer, build_answer
from rightsizer.analysis.bottleneck import name_bottleneck
from rightsizer.analysis.capacity import tasks_needed
from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.run import load_run
from rightsizer.analysis.slo import users_at_slo
from rightsizer.analysis.steps import load_points
from tests.analysis.helpers import fixture_run


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
    assert answer.users_per_task == pytest.approx(limit.users / (one.tasks or 1))
    assert answer.tasks_needed == tasks_needed(limit.users, 2000, 0.3)
    knee_one = find_knee(load_points(one.steps))
    knee_four = find_knee(load_points(four.steps))
    assert knee_one and knee_four
    assert answer.throughput_ratio == pytest.approx(
        knee_four.peak_throughput / knee_one.peak_throughput
    )
    assert answer.scaling_tasks == (one.tasks, four.tasks)
    assert answer.limiting_part == name_bottleneck(four).part.value
    assert answer.usl_sigma is not None and 0 <= answer.usl_sigma <= 1
    assert answer.usl_kappa == 0.0  # two task counts cannot identify kappa
    assert any("kappa" in note for note in answer.notes)


def test_the_answer_survives_a_json_round_trip(answer: Answer) -> None:
    assert Answer.from_dict(answer.to_dict()) == answer
    assert Answer.from_dict({**answer.to_dict(), "from_the_future": 1}) == answer


def test_the_printed_answer_carries_the_numbers(answer: Answer) -> None:
    text = "\n".join(answer.lines())
    assert f"{answer.users_per_task:.1f}" in text
    assert "45% (seed: 20%)" in text
    assert f"{answer.tasks_needed:.0f} if tasks scaled linearly" in text
    assert f"x{answer.throughput_ratio:.1f}" in text
    assert "Alarm back to OK after the load: yes" in text


def test_a_single_run_still_answers_what_it_can(tmp_path: Path) -> None:
    one = load_run(fixture_run(tmp_path, "run-1-task"))
    alone = build_answer(one)
    assert alone.throughput_ratio is None and alone.usl_sigma is None
    assert alone.users_per_task is not None and math.isfinite(alone.users_per_task)
    assert "not measured" in "\n".join(alone.lines())
