from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from rightsizer.analysis.step_points import LoadPoint, load_points
from rightsizer.load.records import RequestRecord
from rightsizer.load.step_stats import ServerSeries, step_stats, step_windows
from rightsizer.stepsfile import Step, parse_steps


def test_a_full_entry_parses_every_field() -> None:
    raw = {
        "index": 2,
        "users": 20,
        "start": 10.0,
        "end": 70.0,
        "steady_start": 22.0,
        "requests_total": 300,
        "failures": 3,
        "fail_ratio": 0.02,
        "rps": 4.5,
        "p50_ms": 100,
        "p90_ms": 200.0,
        "p95_ms": 300.0,
        "p99_ms": 400.0,
        "max_ms": 500.0,
        "cpu_utilization": 97.5,
        "cpu_utilization_max": 100.0,
        "memory_utilization": 12.0,
        "generator_cpu": 8.0,
        "generator_bound": True,
        "requests": {"/index.php": {"count": 150, "failures": 1, "p95_ms": 250.0}},
    }
    step = Step.from_dict(raw)
    assert (step.index, step.users, step.p50_ms, step.generator_bound) == (2, 20, 100.0, True)
    assert step.window == (22.0, 70.0)
    assert step.failure_pct == 2.0  # fail_ratio is a fraction
    assert step.requests[0].name == "/index.php"
    assert step.requests[0].count == 150
    assert step.requests[0].p99_ms is None


def test_missing_and_wrong_typed_fields_become_none() -> None:
    step = Step.from_dict({"users": 5, "p95_ms": "fast", "cpu_utilization": None, "rps": True})
    assert step.users == 5
    assert step.p95_ms is None and step.cpu_utilization is None and step.rps is None
    assert step.window is None
    assert step.failure_pct is None


def test_failure_pct_falls_back_to_whole_step_counts() -> None:
    assert Step(index=0, users=1, requests_total=200, failures=3).failure_pct == 1.5


def test_parse_steps_skips_non_objects_and_numbers_missing_indexes() -> None:
    steps = parse_steps([{"users": 1}, "junk", {"users": 3}])
    assert [(s.index, s.users) for s in steps] == [(0, 1), (2, 3)]


def test_index_zero_is_kept_wherever_the_entry_stands() -> None:
    # `index or position` once turned a recorded index 0 into the entry's position.
    assert parse_steps([{"users": 2, "index": 1}, {"users": 1, "index": 0}])[1].index == 0


@pytest.mark.parametrize(
    "entry",
    [
        {"users": "many"},
        {"users": 2.5},
        {"users": -3},
        {"users": None},
        {"users": True},
        {"users": [1]},
        {},
    ],
)
def test_entries_without_a_whole_positive_users_count_are_left_out(entry: Any) -> None:
    assert parse_steps([entry, {"users": 4}]) == (Step(index=1, users=4),)


def test_wrong_types_everywhere_become_none_not_errors() -> None:
    raw = {
        "users": 3,
        "index": "first",
        "start": "yesterday",
        "p95_ms": float("nan"),
        "rps": float("inf"),
        "requests_total": 2.5,
        "generator_bound": "yes",
        "requests": {"/": "fast", "/x": {"count": "ten", "p95_ms": [1]}, "/y": None},
    }
    step = Step.from_dict(raw, position=7)
    assert (step.index, step.users, step.start, step.p95_ms, step.rps) == (7, 3, None, None, None)
    assert step.requests_total is None and step.generator_bound is False
    assert [(r.name, r.count, r.p95_ms) for r in step.requests] == [("/x", None, None)]
    assert parse_steps([raw, 5, None, [raw]]) == (dataclasses.replace(step, index=0),)


def test_every_figure_the_writer_records_survives_the_reader() -> None:
    """load.steps.StepStats.as_dict() -> steps.json -> analysis.steps.Step.from_dict()."""
    t0 = 1_800_000_000.0
    records = [
        RequestRecord(
            t0 + 0.1 * i, "/index.php" if i % 3 else "/save", "GET", 5.0 + i, i % 7 != 0, 10
        )
        for i in range(300)
    ]
    windows = step_windows([t0, t0 + 10, t0 + 20], [2, 5, 9], t0 + 30, warmup=0.2)
    series = ServerSeries(
        cpu=[(t0 + i + 0.5, 10.0 + i) for i in range(30)],
        memory=[(t0 + i + 0.5, 40.0 + i / 10) for i in range(30)],
        generator=[(t0 + i + 0.5, 90.0 if i == 25 else 5.0) for i in range(30)],
    )
    written = [json.loads(json.dumps(s.as_dict())) for s in step_stats(records, windows, series)]
    steps = parse_steps(written)
    assert len(steps) == 3
    fields = {f.name for f in dataclasses.fields(Step)}
    for raw, step in zip(written, steps, strict=True):
        assert set(raw) <= fields, f"steps.json keys the reader drops: {set(raw) - fields}"
        for key, value in raw.items():
            if key != "requests":  # JSON lists are read as tuples
                assert getattr(step, key) == (tuple(value) if isinstance(value, list) else value)
        assert [r.name for r in step.requests] == list(raw["requests"])
        for request in step.requests:
            recorded = raw["requests"][request.name]
            read = dataclasses.asdict(request)
            assert set(recorded) <= set(read)
            assert {k: read[k] for k in recorded} == recorded
    assert steps[2].generator_bound and steps[2].failure_pct is not None


def test_load_points_are_sorted_by_users_and_skip_steps_without_rps() -> None:
    steps = [
        Step(index=0, users=20, rps=5.0),
        Step(index=1, users=5, rps=3.0),
        Step(index=2, users=10),
        Step(index=3, users=0, rps=1.0),
    ]
    assert load_points(steps) == (LoadPoint(5, 3.0), LoadPoint(20, 5.0))
