"""The one limit rule, and the search and the report agreeing on it over the same steps."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rightsizer.analysis.answer import build_answer
from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.limit import (
    Halves,
    LimitPoint,
    Verdict,
    estimate_users,
    judge_limit,
    limit_of_steps,
    settled,
    slo_verdict,
)
from rightsizer.analysis.recorded_run import load_run
from rightsizer.analysis.step_points import LoadPoint
from rightsizer.load.records import RequestRecord
from rightsizer.load.search import SearchLimits, StepOutcome, UserSearch
from rightsizer.load.step_stats import ServerSeries, step_stats, step_windows, steps_document
from rightsizer.report import cards, summary
from rightsizer.slo import Slo
from rightsizer.stepsfile import Step, parse_steps
from tests.analysis.helpers import T0, fixture_run, run_of

SLO = Slo(p95_ms=1000.0, failure_pct=1.0)
STEP_S = 10.0
WARMUP = 0.2


def point(users: int, index: int = 0, **figures: object) -> LimitPoint:
    values: dict[str, object] = {
        "p95_ms": 50.0,
        "failure_pct": 0.0,
        "rps": users * 0.5,
        "requests": round(users * 0.5 * 8),
    }
    values.update(figures)
    return LimitPoint(index=index, users=users, **values)  # type: ignore[arg-type]


# -- the rule ---------------------------------------------------------------------------------


def test_nothing_served_is_bad_and_nothing_known_is_not_judged() -> None:
    silent = point(50, p95_ms=None, rps=0.0, requests=0)
    unknown = point(50, p95_ms=None, rps=None, requests=None)
    assert slo_verdict(silent, SLO) is Verdict.SILENT and Verdict.SILENT.bad
    assert slo_verdict(unknown, SLO) is Verdict.UNKNOWN
    limit = judge_limit([point(10, 0), silent], SLO)
    assert (limit.low, limit.high) == (10, 50)
    assert not judge_limit([point(10, 0), dataclasses.replace(unknown, index=1)], SLO).reached


def test_past_the_knee_is_what_find_knee_decides() -> None:
    # linear at 0.5 rps a user to 400, then flat: the plateau test of knee.py
    users = [50, 150, 300, 400, 480, 560]
    points = [point(u, i, rps=min(0.5 * u, 200.0)) for i, u in enumerate(users)]
    limit = judge_limit(points, SLO)
    knee = find_knee([LoadPoint(p.users, p.rps or 0.0, p.requests) for p in points])
    assert knee is not None and knee.reached and limit.knee == knee
    bad = [p.users for p in limit.bad]
    assert bad == [u for u in users if knee.passed(u)] and bad
    assert all(limit.verdict(p) is Verdict.PAST_KNEE for p in limit.bad)
    assert (limit.low, limit.high) == (max(u for u in users if u not in bad), min(bad))


def test_a_step_past_n_star_is_past_the_knee_though_the_line_tolerated_it() -> None:
    # 0.6 rps a user to 800 users; 1000 users give 520 rps (87% of the line: close enough to
    # join it), 1300 give 500 (clearly off). The line's median rate 0.6 meets the 520 rps peak
    # at N* = 520 / 0.6 = 866.7: 1000 users are past it, though the SLO held there and in
    # the next run the same users may land on either side of the line's tolerance.
    users = [100, 200, 300, 400, 500, 600, 700, 800]
    points = [point(u, i, rps=0.6 * u, requests=None) for i, u in enumerate(users)]
    points += [point(1000, 8, rps=520.0, requests=None), point(1300, 9, rps=500.0, requests=None)]
    limit = judge_limit(points, SLO)
    assert limit.knee is not None and limit.knee.users == pytest.approx(520 / 0.6)
    assert (limit.low, limit.high) == (800, 1000)
    assert limit.verdict(points[8]) is Verdict.PAST_KNEE
    found = estimate_users(limit)
    assert found.at_knee and found.users == pytest.approx(520 / 0.6)


def test_the_knee_or_the_slo_whichever_comes_first() -> None:
    # linear at 0.5 rps a user to 40 users, flat at 22 rps from 80: N* = 22 / 0.5 = 44
    def run(p95_at_40: float) -> list[LimitPoint]:
        return [
            point(10, 0, rps=5.0, requests=None),
            point(40, 1, rps=20.0, requests=None, p95_ms=p95_at_40),
            point(80, 2, rps=22.0, requests=None, p95_ms=2600.0),
        ]

    # the SLO (1000 ms) breaks at 40 + 40 x 400/2000 = 48 users: the knee came first
    knee_first = estimate_users(judge_limit(run(600.0), SLO))
    assert knee_first.at_knee and knee_first.users == pytest.approx(44.0)
    # ... at 40 + 40 x 100/1700 = 42.4 users: the SLO came first
    slo_first = estimate_users(judge_limit(run(900.0), SLO))
    assert slo_first.interpolated and slo_first.users == pytest.approx(40 + 40 * 100 / 1700)


def test_the_slo_and_the_knee_bracket_together() -> None:
    points = [point(50, 0), point(100, 1), point(200, 2, p95_ms=1500.0), point(150, 3)]
    limit = judge_limit(points, SLO)
    assert (limit.low, limit.high) == (150, 200) and limit.verdict(points[2]) is Verdict.MISSED


def halves(early: float, late: float, count: int = 200) -> Halves:
    """Two halves of a step, each p95 resting on `count` answers (200: the tenth-highest)."""
    return Halves(early, count, late, count)


def test_a_rising_p95_on_a_good_step_is_not_settled() -> None:
    # p95 doubled from the first half to the second: the queue was still growing
    rising = point(300, p95_ms=400.0, halves=halves(200.0, 400.0))
    assert not settled(rising, SLO)
    # 5% apart: the jitter of a step in a steady state
    assert settled(dataclasses.replace(rising, halves=halves(200.0, 210.0)), SLO)
    # too few answers in a half to tell, a trend far below the SLO, or a step already bad
    assert settled(dataclasses.replace(rising, halves=halves(200.0, 400.0, 5)), SLO)
    assert settled(point(30, halves=halves(20.0, 60.0)), SLO)
    assert settled(dataclasses.replace(rising, p95_ms=1200.0), SLO)


def test_a_falling_p95_on_a_bad_step_is_the_start_s_burst_draining() -> None:
    draining = point(300, p95_ms=1200.0, halves=halves(1800.0, 500.0))
    assert not settled(draining, SLO)
    assert settled(dataclasses.replace(draining, p95_ms=600.0), SLO)  # good: stays good
    assert settled(dataclasses.replace(draining, failure_pct=5.0), SLO)  # failures stay


def test_an_unsettled_step_is_left_for_its_repeat() -> None:
    first = point(300, 1, p95_ms=400.0, halves=halves(200.0, 700.0))
    repeat = point(300, 2, p95_ms=1400.0)
    limit = judge_limit([point(100, 0), first, repeat], SLO)
    assert limit.repeated == (first,) and (limit.low, limit.high) == (100, 300)
    alone = judge_limit([point(100, 0), first], SLO)  # no repeat: judged on its figures
    assert alone.repeated == () and alone.low == 300


# -- one conversion: live and recorded give the same point ------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, STEP_S), st.floats(1, 3000), st.booleans()),
        min_size=0,
        max_size=120,
    ),
    st.integers(1, 4),
)
def test_the_search_and_steps_json_see_the_same_point(
    raw: list[tuple[float, float, bool]], steps: int
) -> None:
    """A step measured live (StepOutcome.from_stats) and the same step read back from
    steps.json (LimitPoint.of_step) are one point for the rule."""
    starts = [T0 + i * STEP_S for i in range(steps)]
    users = [10 * (i + 1) for i in range(steps)]
    records = [
        RequestRecord(T0 + (i % steps) * STEP_S + at, "/", "GET", ms, ok, 1)
        for i, (at, ms, ok) in enumerate(raw)
    ]
    stats = step_stats(
        records, step_windows(starts, users, T0 + steps * STEP_S, WARMUP), ServerSeries()
    )
    # the search's live p95 rests on the same records unless a queue twice the SLO shows
    slo = Slo(p95_ms=1e9)
    live = [StepOutcome.from_stats(s, slo).point(i) for i, s in enumerate(stats)]
    recorded = [LimitPoint.of_step(s) for s in parse_steps(steps_document(stats)["steps"])]
    for a, b in zip(live, recorded, strict=True):
        assert a.users == b.users and a.p95_ms == b.p95_ms and a.requests == b.requests
        assert a.halves == b.halves and a.rps == pytest.approx(b.rps)
        assert a.failure_pct == pytest.approx(b.failure_pct or 0.0)
    bad = [[p.index for p in judge_limit(points, SLO).bad] for points in (live, recorded)]
    assert bad[0] == bad[1]


# -- the search and the report agree ----------------------------------------------------------


def outcome_of(step: Step) -> StepOutcome:
    """A recorded step as the search measured it."""
    window = step.window
    requests = None
    if window is not None and step.rps is not None:
        requests = round(step.rps * (window[1] - window[0]))
    trend = None
    if step.answered_early is not None and step.answered_late is not None:
        trend = Halves(step.p95_early_ms, step.answered_early, step.p95_late_ms, step.answered_late)
    return StepOutcome(
        users=step.users,
        p95_ms=step.p95_ms,
        fail_ratio=(step.failure_pct or 0.0) / 100,
        cpu_utilization=step.cpu_utilization,
        rps=step.rps,
        requests=requests,
        halves=trend,
    )


def step_of(index: int, outcome: StepOutcome) -> Step:
    """A search step as steps.json records it."""
    start = T0 + index * STEP_S
    trend = outcome.halves
    return Step(
        index=index,
        users=outcome.users,
        start=start,
        end=start + STEP_S,
        steady_start=start + WARMUP * STEP_S,
        fail_ratio=outcome.fail_ratio,
        rps=outcome.rps,
        p95_ms=outcome.p95_ms,
        cpu_utilization=outcome.cpu_utilization,
        p95_early_ms=trend.early_p95_ms if trend else None,
        answered_early=trend.early_count if trend else None,
        p95_late_ms=trend.late_p95_ms if trend else None,
        answered_late=trend.late_count if trend else None,
    )


def assert_agree(steps: Sequence[Step], slo: Slo) -> None:
    """The search's decisions and the report's conclusion over the same steps."""
    done = [outcome_of(s) for s in sorted(steps, key=lambda s: s.index)]
    search = UserSearch(SearchLimits(tasks=1, slo=slo))
    run = run_of(list(steps), slo)
    answer = build_answer(run)
    assert search.bracket(done) == (answer.users_low, answer.users_high)
    assert search.limit(done).knee_reached == answer.knee_reached
    # every step: the search's verdict is the report's row
    rows = {row["index"]: row for row in summary.step_rows(run)}
    for position, (step, outcome) in enumerate(
        zip(sorted(steps, key=lambda s: s.index), done, strict=True)
    ):
        verdict = search.limit(done).verdict(outcome.point(position))
        assert (rows[step.index]["slo_tone"] == "bad") == verdict.bad, step
    # ... and the run's own card says the same interval as the answer
    low, high = answer.users_low, answer.users_high
    if low is not None or high is not None:
        assert cards.cards(run)[0].value == answer.users_text()
    # the answer is a lower bound exactly when the search found nothing past the limit
    assert (answer.bound_reason is None) == (high is not None)


@pytest.mark.parametrize("name", ["run-1-task", "search-1-task"])
def test_the_search_and_the_report_agree_on_recorded_runs(tmp_path: Path, name: str) -> None:
    run = load_run(fixture_run(tmp_path, name))
    assert_agree(run.steps, run.slo)
    assert limit_of_steps(run.steps, run.slo).reached  # both fixtures broke their SLO


def test_the_search_and_the_report_agree_on_a_recorded_fleet_of_four(tmp_path: Path) -> None:
    run = load_run(fixture_run(tmp_path, "run-4-tasks"))
    one_task = [dataclasses.replace(s) for s in run.steps]  # judged as users of the fleet
    assert_agree(one_task, run.slo)


@dataclasses.dataclass(frozen=True)
class Fleet:
    """A closed system: each user sends `rate` requests a second while nothing queues, up to
    `xmax` (the knee N* = xmax / rate); past it the response time grows as
    R = N / xmax - 1 / rate (the interactive response time law). A step just past N* ends
    before its queue has settled: its second half's p95 is still rising."""

    rate: float = 0.65
    xmax: float = 300.0
    service_ms: float = 40.0
    cpu_per_user: float = 0.22
    noise: float = 0.03
    seed: int = 0

    def measure(self, users: int, index: int, again: bool) -> StepOutcome:
        jitter = random.Random(self.seed * 1000 + index).uniform(-self.noise, self.noise)
        rps = min(users * self.rate, self.xmax) * (1 + jitter)
        queue_s = max(0.0, users / self.xmax - 1 / self.rate)
        p95 = 2 * (self.service_ms + 1000 * queue_s)
        early, late = p95, p95
        if queue_s > 0 and not again:  # the queue still builds in a first step
            early, late, p95 = p95 * 0.3, p95 * 0.8, p95 * 0.6
        count = round(rps * STEP_S * (1 - WARMUP) / 2)
        return StepOutcome(
            users=users,
            p95_ms=p95,
            fail_ratio=0.0,
            cpu_utilization=min(100.0, users * self.cpu_per_user),
            rps=rps,
            requests=round(rps * STEP_S * (1 - WARMUP)),
            halves=Halves(early, count, late, count),
        )


def search(fleet: Fleet, limits: SearchLimits) -> list[StepOutcome]:
    engine = UserSearch(limits)
    done: list[StepOutcome] = []
    while (users := engine.next_users(done)) is not None:
        again = bool(done) and done[-1].users == users
        done.append(fleet.measure(users, len(done), again))
    return done


BUDGETS = {
    "demo": SearchLimits(tasks=1, max_steps=9),
    "quick": SearchLimits(tasks=1, first_users=60, max_steps=6),
}


@pytest.mark.parametrize("budget", sorted(BUDGETS))
@pytest.mark.parametrize("xmax", [150.0, 300.0, 380.0])
def test_within_the_demo_s_budget_the_search_brackets_the_limit(budget: str, xmax: float) -> None:
    fleet = Fleet(xmax=xmax)
    done = search(fleet, BUDGETS[budget])
    steps = [step_of(i, o) for i, o in enumerate(done)]
    assert_agree(steps, SLO)
    answer = build_answer(run_of(steps))
    assert answer.users_high is not None, [s.users for s in done]  # not a lower bound
    knee = xmax / fleet.rate
    assert answer.users_low is not None and answer.users_low <= knee * 1.35
    assert answer.users_high >= knee * 0.9, [s.users for s in done]


FLEETS = st.builds(
    Fleet,
    rate=st.floats(0.2, 1.5),
    xmax=st.floats(30.0, 900.0),
    cpu_per_user=st.floats(0.05, 0.6),
    noise=st.floats(0.0, 0.08),
    seed=st.integers(0, 1000),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FLEETS, st.integers(4, 12))
def test_any_search_and_its_report_agree(fleet: Fleet, steps: int) -> None:
    done = search(fleet, SearchLimits(tasks=1, max_steps=steps))
    assert_agree([step_of(i, o) for i, o in enumerate(done)], SLO)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 800),
            st.one_of(st.none(), st.floats(1.0, 4000.0)),
            st.floats(0.0, 0.05),
            st.one_of(st.none(), st.floats(0.0, 500.0)),
            st.one_of(st.none(), st.tuples(st.floats(1, 3000), st.floats(1, 3000))),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_any_step_set_is_judged_alike(
    raw: list[tuple[int, float | None, float, float | None, tuple[float, float] | None]],
) -> None:
    done = []
    for users, p95, fail, rps, trend in raw:
        served = rps if p95 is not None or rps is None else 0.0
        done.append(
            StepOutcome(
                users=users,
                p95_ms=p95,
                fail_ratio=fail,
                cpu_utilization=None,
                rps=served,
                requests=None if served is None else round(served * STEP_S * (1 - WARMUP)),
                halves=None if trend is None else Halves(trend[0], 40, trend[1], 40),
            )
        )
    assert_agree([step_of(i, o) for i, o in enumerate(done)], SLO)


def test_whole_users_in_the_bracket() -> None:
    fleet = Fleet()
    done = search(fleet, BUDGETS["demo"])
    answer = build_answer(run_of([step_of(i, o) for i, o in enumerate(done)], tasks=4))
    for value in (answer.users_low, answer.users_high, answer.users_per_task, answer.knee_users):
        assert value is None or (isinstance(value, int) and value == math.floor(value))
