"""Per-task CPU and memory as ECS reports them, read from each task's cgroup.

    CPUUtilization    = CPU time used in the interval / (reserved vCPU x interval) x 100
    MemoryUtilization = (RSS + page cache - inactive page cache) / reserved memory x 100

Both are against the *reservation*, so a task capped at 0.25 vCPU reads 100% when it uses its
whole quota (and an uncapped one may read more). The interval is the one measured between the
two readings (a monotonic clock read with each), not the scheduled tick: a tick that runs late
on a busy machine would otherwise count the extra CPU time against too short an interval. The
sample's timestamp stays at the middle of the scheduled interval, so periods line up.
Service-level series get one sample per task per tick, so a period's Average is across tasks and
its Maximum the busiest task, as ECS publishes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from rightsizer.cgroup.group import Group
from rightsizer.errors import CgroupError
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, Sample


@dataclass(frozen=True)
class TaskView:
    """What the sampler needs of one task."""

    task_id: str
    group: Group


class TaskSource(Protocol):
    """The tasks alive now (the fleet)."""

    def running(self) -> Sequence[TaskView]: ...


@dataclass(frozen=True)
class _Reading:
    at: float  # the scheduled tick (timestamps)
    measured: float  # the clock when the group was read (the interval)
    usage_ns: int
    throttled: int


class TaskSampler:
    """Samples every running task's group; the first tick of a task only takes a baseline."""

    def __init__(
        self,
        tasks: TaskSource,
        cpu: float,
        memory_mb: int,
        service: str = names.DEFAULT_SERVICE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tasks = tasks
        self._clock = clock
        self._cpu = cpu
        self._memory_bytes = memory_mb * 1024 * 1024
        self._service = service
        self._last: dict[str, _Reading] = {}
        self._keys: dict[tuple[str, str | None], MetricKey] = {}  # built once, used every tick

    def sample(self, now: float) -> Iterator[Sample]:
        running = self._tasks.running()
        seen: set[str] = set()
        for task in running:
            seen.add(task.task_id)
            yield from self._sample_task(task, now)
        for gone in set(self._last) - seen:
            del self._last[gone]
            self._keys = {k: v for k, v in self._keys.items() if k[1] != gone}
        yield Sample(self._key(names.RUNNING_TASK_COUNT), now, float(len(running)), "Count")

    def _key(self, name: str, task_id: str | None = None) -> MetricKey:
        key = self._keys.get((name, task_id))
        if key is None:
            dims = {names.SERVICE_DIMENSION: self._service}
            if task_id is not None:
                dims[names.TASK_DIMENSION] = task_id
            key = self._keys[(name, task_id)] = MetricKey.of(name, **dims)
        return key

    def _sample_task(self, task: TaskView, now: float) -> Iterator[Sample]:
        try:
            measured = self._clock()
            reading = _Reading(now, measured, task.group.usage_ns(), task.group.throttled())
            memory = task.group.memory()
        except CgroupError:
            return  # the task ended between listing and reading
        previous = self._last.get(task.task_id)
        self._last[task.task_id] = reading
        if previous is None or now <= previous.at or measured <= previous.measured:
            return
        at = previous.at + (now - previous.at) / 2  # the middle of the scheduled interval
        used = max(0, reading.usage_ns - previous.usage_ns) / 1e9
        cpu = used / (self._cpu * (measured - previous.measured)) * 100
        mem = memory.in_use / self._memory_bytes * 100
        throttled = float(max(0, reading.throttled - previous.throttled))
        tid = task.task_id
        yield Sample(self._key(names.CPU_UTILIZATION, tid), at, cpu, "Percent")
        yield Sample(self._key(names.MEMORY_UTILIZATION, tid), at, mem, "Percent")
        yield Sample(self._key(names.MEMORY_RSS, tid), at, float(memory.rss), "Bytes")
        yield Sample(self._key(names.MEMORY_CACHE, tid), at, float(memory.cache), "Bytes")
        yield Sample(self._key(names.CPU_THROTTLED_PERIODS, tid), at, throttled, "Count")
        yield Sample(self._key(names.CPU_UTILIZATION), at, cpu, "Percent")
        yield Sample(self._key(names.MEMORY_UTILIZATION), at, mem, "Percent")
