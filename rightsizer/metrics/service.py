"""A service's samples of one metric, read the one way every reader of a run agrees on.

The fleet records CPUUtilization and MemoryUtilization twice: per task ({ServiceName, TaskId})
and at service level ({ServiceName}, one sample per running task per tick, as ECS publishes
them). The service-level samples are what an alarm on the service evaluates, so they are read
when they exist; a store without them (an older run, a sampler that only wrote per task) gets
the tasks' samples pooled, which is the same set of values. A run against an ECS service
(--ecs) has neither: it reads the service's AWS/ECS series from CloudWatch, one Average a
period.

    cpu = service_samples(store, names.CPU_UTILIZATION, step_start, step_end)
    aggregate(cpu, 60, Statistic.parse("Average"))   # what the service's alarm sees
"""

from __future__ import annotations

from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, MetricStore


def service_keys(store: MetricStore, metric: str) -> list[MetricKey]:
    """The series `service_samples` reads: the service-level ones, else every task's."""
    keys = store.keys(namespace=names.NAMESPACE, name=metric)
    service = [k for k in keys if set(k.dimension_map) == {names.SERVICE_DIMENSION}]
    tasks = [k for k in keys if names.TASK_DIMENSION in k.dimension_map]
    return service or tasks or _ecs_keys(store, metric)


def _ecs_keys(store: MetricStore, metric: str) -> list[MetricKey]:
    """The ECS service's own series read from CloudWatch (a run with --ecs): its Average,
    one sample a period, under {ClusterName, ServiceName}."""
    wanted = {names.CLUSTER_DIMENSION, names.SERVICE_DIMENSION}
    keys = store.keys(namespace=names.ECS_NAMESPACE, name=metric)
    return [k for k in keys if set(k.dimension_map) == wanted]


def service_samples(
    store: MetricStore, metric: str, start: float | None = None, end: float | None = None
) -> list[tuple[float, float]]:
    """(timestamp, value) samples of `metric` for the service, start <= timestamp < end,
    oldest first; see the module docstring for which series they come from."""
    samples: list[tuple[float, float]] = []
    for key in service_keys(store, metric):
        samples.extend(store.samples(key, start, end))
    return sorted(samples)
