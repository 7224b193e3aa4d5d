"""The fleet's tasks as Kubernetes' exporters show pods, beside the rightsizer_* gauges of
/metrics: the same names and labels as a kubelet's cAdvisor and kube-state-metrics, so the
queries `run --prometheus URL --pod-selector ...` sends (rightsizer.metrics.prometheus_source)
read this fleet as they read a real cluster.

    private_registry(recent, PodCollector(fleet, FleetPods("uploader", 0.25, 512 << 20)))

Per task (a pod named after its task id, in namespace `NAMESPACE`, with one container named
after what the task runs: "uploader" for the reference uploader, "task" for any other command):
    container_cpu_usage_seconds_total{namespace,pod,container}     counter: the task group's
        CPU time (cpuacct.usage / cpu.stat usage_usec), read at each scrape, as cAdvisor does
    container_memory_working_set_bytes{namespace,pod,container}    gauge: usage less inactive
        file pages, cAdvisor's working set (and the fleet's own MemoryUtilization numerator)
    kube_pod_container_resource_limits{namespace,pod,container,resource,unit}  gauge: the
        task's caps, resource="cpu" unit="core" and resource="memory" unit="byte", only when
        the fleet is capped (a pod without limits has no such series in a cluster either)
A task that ends between listing and reading is left out of that scrape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rightsizer.errors import CgroupError
from rightsizer.metrics.task_sampler import TaskSource

NAMESPACE = "rightsizer"
UPLOADER_CONTAINER = "uploader"
OTHER_CONTAINER = "task"
CPU_SERIES = "container_cpu_usage_seconds_total"
MEMORY_SERIES = "container_memory_working_set_bytes"
LIMITS_SERIES = "kube_pod_container_resource_limits"
_POD_LABELS = ("namespace", "pod", "container")


@dataclass(frozen=True)
class FleetPods:
    """How the fleet's tasks look as pods: their namespace and container, and their limits
    (None: uncapped, no limit series)."""

    container: str
    cpu: float | None
    memory_bytes: int | None
    namespace: str = NAMESPACE


class PodCollector(Collector):
    """Reads every running task's group on each scrape."""

    def __init__(self, tasks: TaskSource, pods: FleetPods) -> None:
        self._tasks = tasks
        self._pods = pods

    def collect(self) -> Iterator[Metric]:
        pods = self._pods
        cpu = CounterMetricFamily(
            CPU_SERIES, "Cumulative cpu time consumed in seconds.", labels=_POD_LABELS
        )
        memory = GaugeMetricFamily(
            MEMORY_SERIES, "Current working set in bytes.", labels=_POD_LABELS
        )
        limits = GaugeMetricFamily(
            LIMITS_SERIES,
            "The number of requested limit resource by a container.",
            labels=[*_POD_LABELS, "resource", "unit"],
        )
        for task in self._tasks.running():
            try:
                used_ns = task.group.usage_ns()
                working_set = task.group.memory().in_use
            except CgroupError:
                continue  # the task ended between listing and reading
            labels = [pods.namespace, task.task_id, pods.container]
            cpu.add_metric(labels, used_ns / 1e9)
            memory.add_metric(labels, float(working_set))
            if pods.cpu is not None:
                limits.add_metric([*labels, "cpu", "core"], pods.cpu)
            if pods.memory_bytes is not None:
                limits.add_metric([*labels, "memory", "byte"], float(pods.memory_bytes))
        yield cpu
        yield memory
        if limits.samples:
            yield limits
