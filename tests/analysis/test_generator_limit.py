"""A limit the load generator set is not the target's: the answer keeps the last good step as a
lower bound, says why, and how many generator processes the run needed.

The figures are chosen so the oracle is done by hand: steps of 10, 20 and 80 users making 20,
40 and 85 requests/s with the generator's processes at 20%, 40% and 100% of a core in all make
100, 100 and 85 requests per CPU-second (median 100). The 10-user step, unbound, asks 2
requests/s per user, so 80 users ask 160 requests/s: 160 / (100 x 0.85) = 1.88, so 2 processes.
"""

from __future__ import annotations

from rightsizer.analysis.answer import build_answer
from rightsizer.analysis.generator_limit import generator_limit, requests_per_cpu_second
from rightsizer.analysis.limit import limit_of_steps
from rightsizer.slo import Slo
from rightsizer.stepsfile import Step
from tests.analysis.helpers import run_of, step

SLO = Slo(p95_ms=1000.0, failure_pct=1.0)


def _steps(bound_at: int | None = 2) -> list[Step]:
    rows = [
        (10, 20.0, 100.0, {"master": 2.0, "w1": 18.0}),
        (20, 40.0, 200.0, {"master": 2.0, "w1": 38.0}),
        (80, 85.0, 3000.0, {"master": 3.0, "w1": 97.0}),
    ]
    return [
        step(
            users,
            index,
            rps=rps,
            p95_ms=p95,
            fail_ratio=0.0,
            generator_cpu_by_process=cpu,
            generator_bound=index == bound_at,
            generator_bound_processes=("w1",) if index == bound_at else (),
        )
        for index, (users, rps, p95, cpu) in enumerate(rows)
    ]


def test_requests_per_cpu_second_is_the_median_over_the_steps() -> None:
    assert requests_per_cpu_second(_steps()) == 100.0
    single = [step(5, 0, rps=30.0, generator_cpu=60.0)]  # one process, no per-process figures
    assert requests_per_cpu_second(single) == 50.0
    assert requests_per_cpu_second([step(5, 0, rps=30.0)]) is None


def test_a_generator_bound_first_bad_step_is_refused_as_the_targets_limit() -> None:
    steps = _steps(bound_at=2)
    found = generator_limit(steps, limit_of_steps(steps, SLO))
    assert found.refuses and found.processes == 2
    assert found.demand == 160.0
    answer = build_answer(run_of(steps, SLO))
    # Without the refusal the limit would be 20-80 users; the bad step measured the generator.
    assert (answer.users_low, answer.users_high, answer.users_per_task) == (20, None, 20)
    assert answer.bound_reason is not None
    assert "load generator was saturated at 80 users" in answer.bound_reason
    assert "w1" in answer.bound_reason
    first_line = answer.lines()[0]
    assert "≥ 20" in first_line and "not the target, set this limit" in first_line
    (sizing,) = [note for note in answer.notes if "requests per CPU-second" in note]
    assert "needs 2 generator process(es)" in sizing and "--workers 2" in sizing


def test_a_bound_step_that_did_not_set_the_limit_leaves_it_standing() -> None:
    steps = _steps(bound_at=1)  # 20 users bound; 80 users broke the SLO unbound
    found = generator_limit(steps, limit_of_steps(steps, SLO))
    assert not found.refuses and found.reason is None
    answer = build_answer(run_of(steps, SLO))
    assert (answer.users_low, answer.users_high) == (20, 80)
    assert any("requests per CPU-second" in note for note in answer.notes)


def test_no_bound_step_no_word_about_the_generator() -> None:
    steps = _steps(bound_at=None)
    found = generator_limit(steps, limit_of_steps(steps, SLO))
    assert not found.refuses and found.sizing is None
    answer = build_answer(run_of(steps, SLO))
    assert answer.users_high == 80
    assert not [note for note in answer.notes if "generator" in note]
