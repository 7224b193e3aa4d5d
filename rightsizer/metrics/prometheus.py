"""The latest samples in Prometheus's text format, without touching the global registry.

Each series becomes a gauge `rightsizer_<metric_in_snake_case>` with the dimensions as labels
(`service_name`, `task_id`, `load_balancer`). A series that has several samples in one tick (the
service-level CPUUtilization: one per task) shows their average.

    registry = private_registry(recent)
    prometheus_client.generate_latest(registry)
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rightsizer.metrics.recent import Recent
from rightsizer.metrics.store import MetricKey

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """`CPUUtilization` -> `cpu_utilization`, `HTTPCode_Target_2XX_Count` -> `http_code_...`."""
    return _CAMEL.sub("_", name).replace("__", "_").lower()


def metric_name(key: MetricKey) -> str:
    return f"{snake(key.namespace)}_{snake(key.name)}"


class RecentCollector(Collector):
    """Reads the newest tick of a `Recent` on every scrape."""

    def __init__(self, recent: Recent) -> None:
        self._recent = recent

    def collect(self) -> Iterator[Metric]:
        grouped: dict[MetricKey, list[float]] = defaultdict(list)
        units: dict[str, str] = {}
        for sample in self._recent.latest():
            grouped[sample.key].append(sample.value)
            units[sample.key.name] = sample.unit
        by_name: dict[str, list[MetricKey]] = defaultdict(list)
        for key in sorted(grouped):
            by_name[metric_name(key)].append(key)
        for name, keys in by_name.items():
            # Service-level and per-task series share a name; an absent label is "" to Prometheus.
            labels = sorted({k for key in keys for k, _ in key.dimensions})
            doc = f"{keys[0].name} [{units[keys[0].name]}], latest sampling tick"
            family = GaugeMetricFamily(name, doc, labels=[snake(label) for label in labels])
            for key in keys:
                dims = key.dimension_map
                values = grouped[key]
                mean = math.fsum(values) / len(values)
                family.add_metric([dims.get(label, "") for label in labels], mean)
            yield family


def private_registry(recent: Recent, *more: Collector) -> CollectorRegistry:
    """A registry holding only our collectors (no process or platform collectors): the
    latest samples, and `more` (the fleet's pods as Kubernetes shows them, for one)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RecentCollector(recent))
    for collector in more:
        registry.register(collector)
    return registry
