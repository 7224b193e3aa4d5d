"""The rig's own limits: when a step measured the machine rather than the service."""

from __future__ import annotations

from pathlib import Path

from rightsizer.analysis.rig import RigFigures, check_rig, read_figures
from rightsizer.analysis.time_series import Series
from rightsizer.metrics.machine_sampler import CORE_WAIT, LB_CPU, MACHINE_CORES, MACHINE_CPU
from rightsizer.metrics.store import MetricKey, MetricStore, Sample
from rightsizer.rundir import write_json
from tests.analysis.helpers import T0, fleet, run_of, step


def flat(value: float, seconds: float = 120.0) -> Series:
    return Series.of((T0 + t, value) for t in range(int(seconds)))


def test_caps_haproxy_and_generator_over_the_cores_bind_the_machine() -> None:
    run = run_of([step(100, 0, generator_cpu=70.0, cpu_utilization=99.0)], tasks=4)
    check = check_rig(run, RigFigures(cores=2, machine_cpu=flat(80.0), lb_cpu=flat(40.0)))
    (verdict,) = check.steps
    assert verdict.bound
    assert verdict.reasons[0] == (
        "tasks' caps 1.00 + HAProxy 0.40 + generator 0.70 = 2.10 cores of 2"
    )
    assert "this machine, not the service, was the limit at 100 users" in (check.note() or "")


def test_a_busy_machine_with_tasks_below_their_cap_binds_it() -> None:
    steps = [step(10, 0, cpu_utilization=40.0), step(20, 1, cpu_utilization=70.0)]
    machine = Series.of(
        [(T0 + t, 50.0) for t in range(60)] + [(T0 + t, 97.0) for t in range(60, 120)]
    )
    check = check_rig(run_of(steps), RigFigures(cores=2, machine_cpu=machine))
    assert [s.bound for s in check.steps] == [False, True]
    assert check.steps[1].reasons == ("the machine's CPU at 97% while tasks used 70% of their cap",)


def test_a_task_at_its_cap_on_a_busy_machine_is_the_service_limit() -> None:
    run = run_of([step(50, 0, cpu_utilization=99.0, generator_cpu=30.0)])
    check = check_rig(run, RigFigures(cores=2, machine_cpu=flat(95.0), lb_cpu=flat(10.0)))
    assert check.measured and not check.bound_steps and check.note() is None


def test_waiting_for_a_core_binds_the_machine() -> None:
    run = run_of([step(50, 0, cpu_utilization=80.0)])
    check = check_rig(run, RigFigures(cores=2, core_wait=(flat(2.0), flat(25.0))))
    assert check.steps[0].reasons == (
        "a task's threads waited 0.25 s a second for a core, unthrottled",
    )


def test_a_run_without_machine_figures_is_not_judged() -> None:
    check = check_rig(run_of([step(50, 0, cpu_utilization=20.0)]), RigFigures())
    assert not check.measured and not check.bound_steps


def test_figures_are_read_from_the_run_directory(tmp_path: Path) -> None:
    write_json(tmp_path / "manifest.json", {"label": "t", "target": fleet()})
    task = {"ServiceName": "uploader", "TaskId": "1"}
    with MetricStore(tmp_path / "metrics.db") as store:
        store.put_many(
            [
                Sample(MetricKey.of(MACHINE_CORES), T0, 2.0, "Count"),
                Sample(MetricKey.of(MACHINE_CPU), T0, 55.0, "Percent"),
                Sample(MetricKey.of(LB_CPU), T0, 12.0, "Percent"),
                Sample(MetricKey.of(CORE_WAIT, **task), T0, 3.0, "Percent"),
            ]
        )
    run = run_of([], path=tmp_path)
    figures = read_figures(run)
    assert figures.cores == 2.0
    assert figures.machine_cpu.values == (55.0,) and figures.lb_cpu.values == (12.0,)
    assert [s.values for s in figures.core_wait] == [(3.0,)]


def test_a_peak_reached_on_a_machine_already_bound_below_it_is_the_rigs() -> None:
    """The demo's 4-task case: the machine was the limit at 703 users, and the load went on
    growing to the peak at 1612 users on that saturated machine."""
    from rightsizer.analysis.rig import peak_bound

    steps = [
        step(703, 0, cpu_utilization=68.0, rps=462.0),
        step(1612, 1, cpu_utilization=92.0, rps=816.0),
    ]
    machine = Series.of(
        [(T0 + t, 98.0) for t in range(60)] + [(T0 + t, 80.0) for t in range(60, 120)]
    )
    run = run_of(steps, tasks=4)
    check = check_rig(run, RigFigures(cores=2, machine_cpu=machine))
    assert [s.bound for s in check.steps] == [True, False]
    assert peak_bound(run, check)
    quiet = check_rig(run, RigFigures(cores=2, machine_cpu=flat(60.0)))
    assert not peak_bound(run, quiet)
