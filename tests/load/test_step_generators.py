"""steps.json per generator process: each one's CPU and busy figures, the processes that bound a
step, and the steps a lost worker left incomplete."""

from __future__ import annotations

from rightsizer.load.records import RequestRecord
from rightsizer.load.step_stats import Loss, ServerSeries, step_stats, step_windows

T0 = 1_800_000_000.0


def _two_steps(series: ServerSeries, losses: tuple[Loss, ...] = ()) -> list[dict[str, object]]:
    windows = step_windows([T0, T0 + 10], (2, 4), T0 + 20, 0.0)
    records = [RequestRecord(T0 + t, "/a", "GET", 5.0, True, 10) for t in (1, 11, 12)]
    return [s.as_dict() for s in step_stats(records, windows, series, losses)]


def test_each_process_is_watched_and_a_busy_one_bounds_its_step() -> None:
    series = ServerSeries(
        generator=[(T0 + 1, 40.0), (T0 + 11, 40.0)],  # the busiest process's CPU: never over 85
        processes={
            "master": [(T0 + 1, 5.0), (T0 + 11, 7.0)],
            "w1": [(T0 + 3, 40.0), (T0 + 13, 20.0), (T0 + 16, 40.0)],
        },
        busy={"w1": [(T0 + 3, 50.0), (T0 + 13, 95.0), (T0 + 16, 60.0)]},
    )
    first, second = _two_steps(series)
    assert first["generator_cpu_by_process"] == {"master": 5.0, "w1": 40.0}
    assert first["generator_busy_by_process"] == {"w1": 50.0}
    assert first["generator_bound_processes"] == [] and first["generator_bound"] is False
    assert second["generator_cpu_by_process"] == {"master": 7.0, "w1": 30.0}
    assert second["generator_busy_by_process"] == {"w1": 77.5}  # the mean; one sample over 85
    assert second["generator_bound_processes"] == ["w1"] and second["generator_bound"] is True


def test_a_lost_worker_makes_the_steps_it_reached_incomplete() -> None:
    early = Loss("w2", last_report=T0 + 8, noticed=T0 + 9)  # within the first step
    across = Loss("w3", last_report=T0 + 9, noticed=T0 + 11)  # from the first into the second
    late = Loss("w4", last_report=T0 + 25, noticed=T0 + 26)  # the drain: the last step's
    first, second = _two_steps(ServerSeries(), (early, across, late))
    assert (first["complete"], first["lost_workers"]) == (False, ["w2", "w3"])
    assert (second["complete"], second["lost_workers"]) == (False, ["w3", "w4"])
    clean, _ = _two_steps(ServerSeries())
    assert clean["complete"] is True and clean["lost_workers"] == []
