from __future__ import annotations

from rightsizer.analysis.steps import LoadPoint, Slo, Step, load_points, parse_steps


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


def test_slo_breaches_name_each_figure() -> None:
    slo = Slo(p95_ms=1000, failure_pct=1.0)
    good = Step(index=0, users=1, p95_ms=999.0, fail_ratio=0.009)
    slow = Step(index=1, users=2, p95_ms=1000.0, fail_ratio=0.0)
    failing = Step(index=2, users=3, p95_ms=10.0, fail_ratio=0.05)
    assert slo.met_by(good) is True
    assert slo.breaches(slow) == ["p95 1000 ms ≥ 1000 ms"]
    assert slo.breaches(failing) == ["failures 5.00% ≥ 1%"]
    assert slo.met_by(Step(index=3, users=4)) is None


def test_slo_from_manifest_uses_defaults_for_bad_values() -> None:
    assert Slo.from_manifest({}) == Slo()
    assert Slo.from_manifest({"slo": {"p95_ms": 500, "failure_pct": 2}}) == Slo(500.0, 2.0)
    assert Slo.from_manifest({"slo": {"p95_ms": -1, "failure_pct": "x"}}) == Slo()


def test_load_points_are_sorted_by_users_and_skip_steps_without_rps() -> None:
    steps = [
        Step(index=0, users=20, rps=5.0),
        Step(index=1, users=5, rps=3.0),
        Step(index=2, users=10),
        Step(index=3, users=0, rps=1.0),
    ]
    assert load_points(steps) == (LoadPoint(5, 3.0), LoadPoint(20, 5.0))
