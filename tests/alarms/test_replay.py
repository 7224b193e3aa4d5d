"""Replay over a recorded run: first ALARM, lead time before the SLO broke, back to OK, flaps,
false alarms, and the recommended setting."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from rightsizer.alarms.replay import (
    ReplayGrid,
    ReplayInput,
    base_alarm,
    read_run,
    recommend,
    replay,
    replay_facts,
)
from rightsizer.errors import UsageError
from rightsizer.metrics.store import MetricKey, MetricStore, Sample
from rightsizer.rundir import RunDir, write_json
from rightsizer.slo import Slo
from rightsizer.stepsfile import Step
from tests.alarms.helpers import T0, definition, make_run

CPU = base_alarm("CPUUtilization")


def rows_by_setting(
    run: RunDir, grid: ReplayGrid, slo: Slo | None = None
) -> dict[tuple[float, int], dict[str, object]]:
    rows = replay(run, grid, slo or Slo())
    return {(r.alarm.threshold, r.alarm.period): r.to_json() for r in rows}


def test_replay_on_a_synthetic_run(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    grid = ReplayGrid(CPU, thresholds=(5, 20, 50), periods=(10, 60))
    rows = rows_by_setting(run, grid)
    assert len(rows) == 6
    # The SLO (p95 1 s) breaks when the 20-user step starts, 180 s after load start.
    assert {r["slo_break_s"] for r in rows.values()} == {180.0}
    # > 20 at 10 s fires in the first period of the 10-user step (45 %): 50 s early.
    assert rows[(20, 10)]["first_alarm_s"] == 130.0
    assert rows[(20, 10)]["lead_time_s"] == 50.0
    assert rows[(20, 10)]["false_alarms"] == 0
    # > 50 only fires once the SLO has broken: late.
    assert rows[(50, 10)]["lead_time_s"] == -10.0
    # > 5 fires at 1 user, while p95 was 120 ms against 1000: a false alarm.
    assert rows[(5, 10)]["false_alarms"] == 1
    # 60 s periods: [+90, +150) averages 31.5 % (half of 18, half of 45) -> ALARM at +150.
    assert rows[(20, 60)]["first_alarm_s"] == 150.0
    # Back to OK: the first idle period after load_end.
    assert rows[(20, 10)]["back_to_ok_s"] == 10.0
    assert rows[(20, 60)]["back_to_ok_s"] == 90.0
    assert all(r["flaps"] == 0 for r in rows.values())


def test_recommend_picks_the_latest_threshold_still_a_period_early(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    rows = replay(run, ReplayGrid(CPU, thresholds=(5, 20, 30, 50), periods=(10, 60)), Slo())
    best = recommend(rows)
    assert best is not None
    assert (best.alarm.threshold, best.alarm.period) == (30.0, 10)
    assert best.lead_time_s is not None and best.lead_time_s >= best.alarm.period


def test_no_recommendation_when_the_slo_never_broke(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    rows = replay(
        run, ReplayGrid(CPU, thresholds=(20,), periods=(10,)), Slo(p95_ms=10_000, failure_pct=50)
    )
    assert rows[0].slo_break_s is None
    assert rows[0].lead_time_s is None
    assert recommend(rows) is None


def test_m_of_n_settings_and_their_names(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    grid = ReplayGrid(
        CPU, thresholds=(20,), periods=(10,), evaluation_periods=(1, 3), datapoints_to_alarm=(2,)
    )
    rows = replay(run, grid, Slo())
    # M = 2 > N = 1 is skipped; 2 of 3 needs a second breaching period: 10 s later.
    assert [(r.alarm.datapoints_to_alarm, r.alarm.evaluation_periods) for r in rows] == [(2, 3)]
    assert rows[0].first_alarm_s == 140.0
    assert rows[0].alarm.name == "CPUUtilization-20-10s-2of3"


def step(start: float, p95_ms: float | None, fail_ratio: float | None = 0.0) -> Step:
    return Step(index=0, users=1, start=start, p95_ms=p95_ms, fail_ratio=fail_ratio)


def facts(
    values: Sequence[float], steps: tuple[Step, ...], period: int = 10, slo: Slo | None = None
) -> ReplayInput:
    samples = tuple((T0 + period * i + 1, v) for i, v in enumerate(values))
    return ReplayInput(T0, T0 + period * len(values), steps, samples, slo or Slo())


def test_flaps_count_returns_to_alarm_after_the_first() -> None:
    values = [10, 30, 10, 30, 10, 30, 10]
    steps = (step(T0, 100.0), step(T0 + 30, 2000.0))
    (row,) = replay_facts(facts(values, steps), [definition(Period=10)])
    assert row.first_alarm_s == 20.0
    assert row.flaps == 2
    # The first ALARM came while the only step had room; the others after the SLO broke.
    assert row.false_alarms == 1
    assert row.slo_break_s == 30.0


def test_lead_time_counts_from_the_alarm_still_on_when_the_slo_broke() -> None:
    # ALARM at +20 (false: back to OK at +30), again at +40 and on until the break at +60.
    values = [10, 30, 10, 30, 30, 30, 30, 10]
    steps = (step(T0, 100.0), step(T0 + 60, 2000.0))
    (row,) = replay_facts(facts(values, steps), [definition(Period=10)])
    assert row.first_alarm_s == 20.0  # the first ALARM ever, as before
    assert row.onset_s == 40.0
    assert row.lead_time_s == 20.0  # not 40: the early false alarm does not count
    # An alarm not on at the break: the first ALARM after it, a late one.
    late = [10, 30, 10, 10, 10, 10, 10, 30, 10]
    (row,) = replay_facts(facts(late, steps), [definition(Period=10)])
    assert (row.first_alarm_s, row.onset_s, row.lead_time_s) == (20.0, 80.0, -20.0)


def test_the_runs_own_slo_judges_and_the_limit_itself_misses_it(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    grid = ReplayGrid(CPU, thresholds=(20,), periods=(10,))
    # The run's SLO, as `rightsizer run` writes it: p95 under 600 ms. The 10-user step's
    # p95 is exactly 600 ms: at the limit is a miss, so the SLO broke at +120.
    manifest = run.manifest() | {"slo": {"p95_ms": 600.0, "failure_pct": 1.0}}
    write_json(run.manifest_path, manifest)
    (row,) = replay(run, grid)
    assert row.slo_break_s == 120.0
    (given,) = replay(run, grid, Slo(p95_ms=10_000, failure_pct=50))  # an explicit one wins
    assert given.slo_break_s is None


def test_a_step_without_p95_is_not_judged() -> None:
    values = [10, 10, 30, 30]
    # No request finished in the first step: neither a break nor room.
    steps = (step(T0, None, None), step(T0 + 20, 400.0))
    (row,) = replay_facts(facts(values, steps), [definition(Period=10)])
    assert row.slo_break_s is None
    assert row.false_alarms == 1  # the judged step had room (400 <= 0.5 x 1000)


def test_an_alarm_while_idle_is_false_and_room_is_configurable() -> None:
    steps = (step(T0 + 100, 400.0),)
    (idle,) = replay_facts(facts([30, 10], steps), [definition(Period=10)])
    assert idle.false_alarms == 1  # before any step started
    values = [10] * 11 + [30]
    (tight,) = replay_facts(facts(values, steps), [definition(Period=10)], room=0.5)
    (loose,) = replay_facts(facts(values, steps), [definition(Period=10)], room=0.3)
    assert tight.false_alarms == 1  # 400 ms <= 0.5 x 1000: plenty of room left
    assert loose.false_alarms == 0  # 400 ms > 0.3 x 1000: the service was getting tight


def test_never_back_to_ok() -> None:
    (row,) = replay_facts(facts([30, 30, 30], ()), [definition(Period=10)])
    assert row.back_to_ok_s is None


def test_already_ok_when_the_load_ended_is_back_at_once() -> None:
    # load_end = T0 + 40 (four periods); the alarm went OK at +30.
    (row,) = replay_facts(facts([30, 30, 10, 10], ()), [definition(Period=10)])
    assert row.back_to_ok_s == 0.0


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({}, "load_start: expected a number"),
        ({"load_start": "soon"}, "load_start: expected a number"),
    ],
)
def test_a_broken_run_directory_is_named(
    tmp_path: Path, manifest: dict[str, object], message: str
) -> None:
    run = make_run(tmp_path)
    write_json(run.manifest_path, manifest)
    with pytest.raises(UsageError, match=message):
        replay(run, ReplayGrid(CPU, thresholds=(20,), periods=(10,)), Slo())


def test_bad_steps_and_missing_series(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    grid = ReplayGrid(CPU, thresholds=(20,), periods=(10,))
    memory = ReplayGrid(base_alarm("MemoryUtilization"), thresholds=(20,), periods=(10,))
    with pytest.raises(UsageError, match="no samples of rightsizer/MemoryUtilization"):
        replay(run, memory, Slo())
    run.steps_path.write_text(json.dumps({"steps": [{"users": 2, "start": "x"}]}))
    with pytest.raises(UsageError, match="step 0 has no start time"):
        replay(run, grid)
    with pytest.raises(UsageError, match="not a run directory"):
        RunDir.open(tmp_path / "nowhere")


def test_an_alarm_on_cloudwatch_s_maximum_reads_the_maximum_series(tmp_path: Path) -> None:
    """A run against ECS (`run --ecs`) stored CloudWatch's Average under CloudWatch's names
    and its Maximum with a Statistic dimension: an alarm reads the series of its statistic."""
    run = make_run(tmp_path)
    ecs = {"ClusterName": "seed", "ServiceName": "uploader"}
    average = MetricKey.from_parts("AWS/ECS", "CPUUtilization", ecs)
    maximum = MetricKey.from_parts("AWS/ECS", "CPUUtilization", {**ecs, "Statistic": "Maximum"})
    with MetricStore(run.metrics_path) as store:
        store.put_many(
            [Sample(average, T0 + 60 * i + 30, 10.0, "Percent") for i in range(5)]
            + [Sample(maximum, T0 + 60 * i + 30, 90.0, "Percent") for i in range(5)]
        )
    dimensions = [{"Name": k, "Value": v} for k, v in ecs.items()]
    alarm = {"Namespace": "AWS/ECS", "Dimensions": dimensions}
    assert {v for _, v in read_run(run, definition(**alarm, Statistic="Maximum")).samples} == {90.0}
    assert {v for _, v in read_run(run, definition(**alarm)).samples} == {10.0}
    # a local fleet's samples (no such series): every statistic is computed from them
    local = read_run(run, definition(Statistic="Maximum")).samples
    assert local and {v for _, v in local} - {10.0, 90.0}
