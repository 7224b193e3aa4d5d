"""Kubernetes pods' CPU and memory over a run window, read from Prometheus into the run's metric
store under the fleet's names (rightsizer.metrics.names), so steps.json, the report and the
answer read a Kubernetes service as they read a local fleet.

    source = PrometheusSource(PrometheusApi.flag(url), PodSelector.parse('namespace="shop"'))
    check = source.check()                       # before the load: UsageError if nothing matches
    recording = record(source, store, start, end, note=print)

What is read, per pod (summed over its containers, the pause container and the pod-level
cgroup, container="" or "POD", left out), one point every `step` seconds:
    cAdvisor: rate(container_cpu_usage_seconds_total[RATE_STEPS x step]) -> CPUCores [vCPU];
        container_memory_working_set_bytes -> MemoryWorkingSet [Bytes] (usage less inactive
        file pages: what the fleet's MemoryUtilization counts too).
    kube-state-metrics, when present: kube_pod_container_resource_limits{resource="cpu"|
        "memory"}, the pod's limit the sum of its containers' (a container without a limit
        adds nothing). A pod with a CPU limit gets CPUUtilization = cores / limit x 100, one
        with a memory limit MemoryUtilization, per pod {ServiceName, TaskId=pod} and at service
        level {ServiceName} (one sample per pod per point, as the fleet's sampler writes them).
        Without limits only the absolute figures are kept, and the Recording says so.
The pod selector is PromQL label matchers (`namespace="shop",pod=~"uploader-.*"`) applied to
both exporters' series, so it may use the labels they share: namespace, pod, container.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rightsizer.errors import UsageError
from rightsizer.metrics import names
from rightsizer.metrics.prometheus_api import PrometheusApi, QueryError, Series
from rightsizer.metrics.store import MetricKey, MetricStore, Sample

DEFAULT_STEP = 15
MAX_STEP = 300  # a run waits up to a step after its end for the last scrape
RATE_STEPS = 4  # the rate's window in steps: Prometheus wants two scrapes in it, at least
CONTAINERS = 'container!="",container!="POD"'  # not the pod's own cgroup nor the pause one
CPU_SERIES = "container_cpu_usage_seconds_total"
MEMORY_SERIES = "container_memory_working_set_bytes"
LIMITS_SERIES = "kube_pod_container_resource_limits"

Pod = tuple[str, str]  # (namespace, pod)


@dataclass(frozen=True)
class PodSelector:
    """PromQL label matchers naming the service's pods, without braces (--pod-selector)."""

    matchers: str

    @classmethod
    def parse(cls, text: str) -> PodSelector:
        inner = text.strip()
        if inner.startswith("{") and inner.endswith("}"):
            inner = inner[1:-1].strip()
        if not inner:
            raise UsageError(
                '--pod-selector: give label matchers, e.g. namespace="shop",pod=~"uploader-.*"'
            )
        return cls(inner.rstrip(","))

    def braces(self, *extra: str) -> str:
        return "{" + ",".join((self.matchers, *extra)) + "}"


@dataclass(frozen=True)
class PodCheck:
    """What Prometheus held for the selector when the run began."""

    pods: int
    cpu_limited: int
    memory_limited: int

    def line(self) -> str:
        return (
            f"Prometheus: {self.pods} pod(s) match; CPU limits for {self.cpu_limited}, "
            f"memory limits for {self.memory_limited} (kube-state-metrics)"
        )


@dataclass(frozen=True)
class PrometheusSource:
    """Which pods a run reads, from which Prometheus, at which resolution (seconds)."""

    api: PrometheusApi
    selector: PodSelector
    step: int = DEFAULT_STEP
    service: str = names.DEFAULT_SERVICE

    def __post_init__(self) -> None:
        if not 1 <= self.step <= MAX_STEP:
            raise UsageError(f"--prometheus-step: give 1 to {MAX_STEP} seconds, got {self.step}")

    @property
    def cpu_query(self) -> str:
        window = f"{RATE_STEPS * self.step}s"
        chosen = self.selector.braces(CONTAINERS)
        return f"sum by (namespace, pod) (rate({CPU_SERIES}{chosen}[{window}]))"

    @property
    def memory_query(self) -> str:
        return f"sum by (namespace, pod) ({MEMORY_SERIES}{self.selector.braces(CONTAINERS)})"

    def limit_query(self, resource: str) -> str:
        chosen = self.selector.braces(f'resource="{resource}"')
        return f"sum by (namespace, pod) ({LIMITS_SERIES}{chosen})"

    def check(self) -> PodCheck:
        """The pods matching now, and how many have limits; UsageError naming --pod-selector
        when Prometheus refuses the matchers or no pod's CPU series matches them,
        UnavailableError when Prometheus cannot be reached."""
        try:
            pods = self.api.query(f"count by (namespace, pod) ({CPU_SERIES}{self._chosen()})")
            cpu = self.api.query(self.limit_query("cpu"))
            memory = self.api.query(self.limit_query("memory"))
        except QueryError as exc:
            raise UsageError(f"--pod-selector: {exc}") from None
        if not pods:
            raise UsageError(
                f"--pod-selector: no {CPU_SERIES} series match {self.selector.braces()} at "
                f"{self.api.url} (cAdvisor's, per container); check the labels in Prometheus"
            )
        return PodCheck(len(pods), len(cpu), len(memory))

    def _chosen(self) -> str:
        return self.selector.braces(CONTAINERS)

    def describe(self) -> dict[str, Any]:
        return {
            "url": self.api.url,
            "pod_selector": self.selector.matchers,
            "step": self.step,
            "rate_window": f"{RATE_STEPS * self.step}s",
            "service": self.service,
        }


@dataclass(frozen=True)
class Recording:
    """What `record` stored: the window, the pods, which had limits, the samples kept."""

    start: float
    end: float
    pods: tuple[str, ...]
    cpu_limited: tuple[str, ...]
    memory_limited: tuple[str, ...]
    samples: int

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "pods": list(self.pods),
            "cpu_limited": list(self.cpu_limited),
            "memory_limited": list(self.memory_limited),
            "samples": self.samples,
        }

    def notes(self) -> list[str]:
        """One line per resource some pod had no limit for (its utilization is unknown)."""
        found = []
        for resource, limited, absolute in (
            ("CPU", self.cpu_limited, names.CPU_CORES),
            ("memory", self.memory_limited, names.MEMORY_WORKING_SET),
        ):
            bare = [pod for pod in self.pods if pod not in limited]
            if bare:
                found.append(
                    f"no kube-state-metrics {resource} limit for {_few(bare)}: recorded as "
                    f"{absolute} only; utilization in % needs limits"
                )
        return found


def record(
    source: PrometheusSource,
    store: MetricStore,
    start: float,
    end: float,
    *,
    note: Callable[[str], None] = lambda _: None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Recording:
    """Read `source`'s pods at every whole step from `start` to `end` into `store`, once a
    step has passed since the last (with a scrape interval of a step at most, Prometheus has
    then scraped past it; a note says so when that means waiting)."""
    step = source.step
    first = math.floor(start / step) * step
    last = max(math.floor(end / step) * step, first)
    wait = last + step - clock()
    if wait > 0:
        if wait >= 1:
            note(f"waiting {wait:.0f} s for Prometheus to scrape past the run's end")
        sleep(wait)
    api = source.api
    try:
        cpu = _by_pod(api.query_range(source.cpu_query, first, last, step))
        memory = _by_pod(api.query_range(source.memory_query, first, last, step))
        cpu_limits = _last(api.query_range(source.limit_query("cpu"), first, last, step))
        memory_limits = _last(api.query_range(source.limit_query("memory"), first, last, step))
    except QueryError as exc:
        raise UsageError(f"--pod-selector: {exc}") from None
    task = _task_ids(set(cpu) | set(memory))
    service = source.service
    samples = [
        *_samples(service, task, cpu, cpu_limits, absolute=names.CPU_CORES, unit="vCPU",
                  utilization=names.CPU_UTILIZATION),
        *_samples(service, task, memory, memory_limits, absolute=names.MEMORY_WORKING_SET,
                  unit="Bytes", utilization=names.MEMORY_UTILIZATION),
        *_running(service, cpu),
    ]  # fmt: skip
    store.put_many(samples)
    return Recording(
        start=first,
        end=last,
        pods=tuple(sorted(task.values())),
        cpu_limited=tuple(sorted(task[p] for p in cpu_limits if p in task)),
        memory_limited=tuple(sorted(task[p] for p in memory_limits if p in task)),
        samples=len(samples),
    )


def _pod(series: Series) -> Pod:
    labels = series.label_map
    return labels.get("namespace", ""), labels.get("pod", "")


def _by_pod(found: Iterable[Series]) -> dict[Pod, tuple[tuple[float, float], ...]]:
    return {_pod(series): series.points for series in found if series.points}


def _last(found: Iterable[Series]) -> dict[Pod, float]:
    """Each pod's newest positive limit (limits do not change while a pod lives)."""
    return {
        _pod(series): series.points[-1][1]
        for series in found
        if series.points and series.points[-1][1] > 0
    }


def _task_ids(pods: set[Pod]) -> dict[Pod, str]:
    """TaskId per pod: its name, or namespace/name when two namespaces share a name."""
    named = defaultdict(list)
    for namespace, pod in pods:
        named[pod].append(namespace)
    return {(ns, pod): pod if len(named[pod]) == 1 else f"{ns}/{pod}" for ns, pod in pods}


def _samples(
    service: str,
    task: dict[Pod, str],
    series: dict[Pod, tuple[tuple[float, float], ...]],
    limits: dict[Pod, float],
    *,
    absolute: str,
    unit: str,
    utilization: str,
) -> Iterator[Sample]:
    whole = MetricKey.of(utilization, **{names.SERVICE_DIMENSION: service})
    for pod, points in series.items():
        dims = {names.SERVICE_DIMENSION: service, names.TASK_DIMENSION: task[pod]}
        used = MetricKey.of(absolute, **dims)
        limit = limits.get(pod)
        per_pod = MetricKey.of(utilization, **dims)
        for ts, value in points:
            yield Sample(used, ts, value, unit)
            if limit is not None:
                percent = value / limit * 100
                yield Sample(per_pod, ts, percent, "Percent")
                yield Sample(whole, ts, percent, "Percent")


def _running(service: str, cpu: dict[Pod, tuple[tuple[float, float], ...]]) -> Iterator[Sample]:
    counts: dict[float, int] = defaultdict(int)
    for points in cpu.values():
        for ts, _ in points:
            counts[ts] += 1
    key = MetricKey.of(names.RUNNING_TASK_COUNT, **{names.SERVICE_DIMENSION: service})
    for ts in sorted(counts):
        yield Sample(key, ts, counts[ts], "Count")


def _few(pods: list[str], shown: int = 3) -> str:
    more = len(pods) - shown
    return ", ".join(pods[:shown]) + (f" and {more} more" if more > 0 else "")
