from __future__ import annotations

from pathlib import Path

from rightsizer.load.step_stats import read_series
from rightsizer.metrics import names
from rightsizer.metrics.service import service_samples
from rightsizer.metrics.store import MetricKey, MetricStore, Sample

CPU = names.CPU_UTILIZATION


def task(task_id: str) -> MetricKey:
    return MetricKey.of(CPU, ServiceName="uploader", TaskId=task_id)


SERVICE = MetricKey.of(CPU, ServiceName="uploader")


def test_service_level_samples_are_read_when_recorded(tmp_path: Path) -> None:
    with MetricStore(tmp_path / "m.db") as store:
        store.put_many([Sample(task("1"), 10.5, 30.0), Sample(task("2"), 10.5, 50.0)])
        store.put_many([Sample(SERVICE, 10.5, 31.0), Sample(SERVICE, 10.5, 51.0)])
        assert service_samples(store, CPU) == [(10.5, 31.0), (10.5, 51.0)]


def test_without_them_the_tasks_samples_are_pooled_in_time_order(tmp_path: Path) -> None:
    with MetricStore(tmp_path / "m.db") as store:
        store.put_many([Sample(task("2"), 11.5, 60.0), Sample(task("1"), 10.5, 30.0)])
        store.put_many([Sample(task("1"), 11.5, 40.0), Sample(task("2"), 12.5, 70.0)])
        store.put(MetricKey.of(CPU, LoadBalancer="lb"), 10.5, 99.0)  # not a task series
        assert service_samples(store, CPU, 10.0, 12.0) == [(10.5, 30.0), (11.5, 40.0), (11.5, 60.0)]


def test_the_step_statistics_read_the_same_samples(tmp_path: Path) -> None:
    # load.steps used to carry its own copy of this rule; it must agree with the report's.
    with MetricStore(tmp_path / "m.db") as store:
        store.put_many([Sample(task("1"), 10.5, 30.0), Sample(task("2"), 10.5, 50.0)])
        store.put(MetricKey.of(names.MEMORY_UTILIZATION, ServiceName="uploader"), 10.5, 12.0)
        series = read_series(store, 0.0, 100.0)
        assert list(series.cpu) == service_samples(store, CPU, 0.0, 100.0)
        assert list(series.memory) == [(10.5, 12.0)]
