"""The answer on rates (`--arrival-rate`): steps judged by their intended rate and their p95
from the intended start, by the one limit rule."""

from __future__ import annotations

import dataclasses

from rightsizer.analysis.answer import build_answer
from rightsizer.analysis.limit import limit_of_rates, limit_of_steps
from rightsizer.analysis.rate_limit import rate_limit
from rightsizer.slo import Slo
from rightsizer.stepsfile import Arrival, Step
from tests.analysis.helpers import run_of, step

SLO = Slo(p95_ms=500.0, failure_pct=1.0)


def _open_steps(
    corrected: list[float], rates: tuple[float, ...] = (50, 100, 200, 400)
) -> list[Step]:
    """Steps at `rates` iterations a second, each carried by a pool of twice as many users, one
    request an iteration, every slot served (throughput follows the rate); the raw p95 is
    20 ms throughout and `corrected` is each step's p95 from the intended start."""
    return [
        step(
            int(2 * rate),
            index,
            rps=float(rate),
            p95_ms=20.0,
            fail_ratio=0.0,
            arrival=Arrival(intended_rate=float(rate), corrected_p95_ms=late),
        )
        for index, (rate, late) in enumerate(zip(rates, corrected, strict=True))
    ]


def test_rates_are_judged_by_the_corrected_p95_not_the_raw_one() -> None:
    steps = _open_steps([30.0, 60.0, 700.0, 3000.0])
    # The raw p95 (20 ms everywhere) meets the SLO: judged on it, nothing is past the limit.
    assert not limit_of_steps(steps, SLO).reached
    limit = limit_of_rates(steps, SLO)
    assert (limit.low, limit.high) == (100, 200)  # rates, not the pools of 200 and 400 users
    found = rate_limit(run_of(steps, SLO))
    assert found is not None
    # Where 500 ms falls between 60 ms at 100/s and 700 ms at 200/s, by hand: 168.75.
    assert found.per_task == 168
    assert found.text.startswith("this task holds 168 iterations/s at p95 < 500 ms (corrected")
    assert "100-200 iterations/s" in found.text


def test_each_task_holds_its_share() -> None:
    found = rate_limit(run_of(_open_steps([30.0, 60.0, 700.0, 3000.0]), SLO, tasks=2))
    assert found is not None
    assert found.per_task == 84  # floor(168.75 / 2)
    assert "each of 2 tasks holds 84 iterations/s" in found.text


def test_no_rate_past_the_limit_is_a_lower_bound() -> None:
    found = rate_limit(run_of(_open_steps([30.0, 40.0, 60.0, 90.0]), SLO))
    assert found is not None
    assert found.bound is not None
    assert "holds at least 400 iterations/s" in found.text
    assert "≥ 400 iterations/s" in found.text


def test_a_first_rate_already_past_the_limit_names_no_figure() -> None:
    found = rate_limit(run_of(_open_steps([900.0, 1500.0], rates=(50, 100)), SLO))
    assert found is not None
    assert found.rate is None and found.per_task is None
    assert found.text.startswith("no rate met p95 < 500 ms")
    assert "< 50 iterations/s" in found.text


def test_a_closed_model_run_has_no_rate_answer() -> None:
    closed = [step(10, 0, rps=10.0, p95_ms=20.0, fail_ratio=0.0)]
    assert rate_limit(run_of(closed, SLO)) is None


def test_the_answer_carries_the_rate_answer() -> None:
    answer = build_answer(run_of(_open_steps([30.0, 60.0, 700.0, 3000.0]), SLO))
    (note,) = [n for n in answer.notes if "open model (--arrival-rate)" in n]
    assert "this task holds 168 iterations/s" in note


def test_a_generator_bound_first_bad_rate_is_not_the_targets_limit() -> None:
    steps = _open_steps([30.0, 60.0, 700.0, 3000.0])
    steps[2] = dataclasses.replace(steps[2], generator_bound=True)
    found = rate_limit(run_of(steps, SLO))
    assert found is not None
    assert found.per_task == 100  # the last good rate, as a lower bound
    assert "holds at least 100 iterations/s" in found.text
    assert "load generator was saturated" in found.text
