"""build_answer's output for the two recorded runs, pinned against fixtures/answers.json.

The JSON was captured from build_answer before it was split into its three findings (issue
13); any change in what the answer says for these runs shows up here as a field-by-field diff.
Regenerate it only for a change meant to alter the answer.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from rightsizer.analysis.answer import Answer, build_answer
from rightsizer.analysis.recorded_run import RecordedRun, load_run
from tests.analysis.helpers import fixture_run

PINNED = Path(__file__).resolve().parent / "fixtures" / "answers.json"


def _cases(one: RecordedRun, four: RecordedRun) -> dict[str, Answer]:
    return {
        "one": build_answer(one),
        "four": build_answer(four),
        "one_and_four": build_answer(one, four, recommended_threshold=45.0, threshold_lead_s=10.0),
        "one_and_four_targets": build_answer(
            one, four, target_users=500, headroom=0.5, seed_threshold=30.0
        ),
    }


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("pinned")
    one = load_run(fixture_run(tmp, "run-1-task"))
    four = load_run(fixture_run(tmp, "run-4-tasks"))
    built = {name: dataclasses.asdict(a) for name, a in _cases(one, four).items()}
    return dict(json.loads(json.dumps(built)))  # tuples as answer.json has them: lists


@pytest.mark.parametrize("case", ["one", "four", "one_and_four", "one_and_four_targets"])
def test_the_answer_for_the_recorded_runs_is_unchanged(answers: dict[str, Any], case: str) -> None:
    pinned = json.loads(PINNED.read_text())[case]
    got = answers[case]
    assert sorted(got) == sorted(pinned)
    assert {k: got[k] for k in pinned if got[k] != pinned[k]} == {}
