"""The machine's own load: what rightsizer.analysis.rig needs to tell the rig's limits from the
service's (a task that waits for a core, not for its quota, measures the machine).

No dimensions, one sample per tick (stamped at the middle of the interval):
    MachineCPUUtilization       [Percent] busy share of all the machine's cores, from /proc/stat
                                (everything but idle and iowait; steal counts as busy: the
                                hypervisor took it)
    MachineCores                [Count]   the cores it has
    LoadBalancerCPUUtilization  [Percent] of one core, HAProxy's process (/proc/PID/stat)
Per task, {ServiceName, TaskId}:
    CPUCoreWait                 [Percent] of the interval the task's threads were runnable but
                                not running (/proc/PID/task/TID/schedstat run_delay, summed),
                                only for intervals in which no CFS period was throttled: a
                                throttled task waits for its quota, which run_delay counts too.

    sampler = MachineSampler(fleet, haproxy_pid=lambda: 1234)
    SamplingLoop([TaskSampler(...), sampler], 1.0, store)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rightsizer.errors import CgroupError
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, Sample
from rightsizer.metrics.task_sampler import TaskSource

MACHINE_CPU = "MachineCPUUtilization"
MACHINE_CORES = "MachineCores"
LB_CPU = "LoadBalancerCPUUtilization"
CORE_WAIT = "CPUCoreWait"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class _Reading:
    at: float  # the scheduled tick
    measured: float  # monotonic clock at the reading
    busy: int  # machine busy jiffies
    total: int  # machine jiffies
    lb_ticks: int | None  # HAProxy's utime + stime
    waits: dict[str, tuple[dict[int, int], int]]  # task -> (tid -> run_delay ns, throttled)


class MachineSampler:
    """Samples the machine, HAProxy and each task's wait for a core; the first tick only takes
    a baseline. `haproxy_pid` returns HAProxy's pid now (None: no HAProxy)."""

    def __init__(
        self,
        tasks: TaskSource,
        haproxy_pid: Callable[[], int | None] = lambda: None,
        *,
        service: str = names.DEFAULT_SERVICE,
        proc_root: Path = Path("/proc"),
        cores: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tasks = tasks
        self._haproxy_pid = haproxy_pid
        self._service = service
        self._proc = proc_root
        self._cores = cores or os.cpu_count() or 1
        self._clock = clock
        self._last: _Reading | None = None

    def sample(self, now: float) -> Iterator[Sample]:
        reading = self._read(now)
        previous, self._last = self._last, reading
        if previous is None or now <= previous.at or reading.measured <= previous.measured:
            return
        at = previous.at + (now - previous.at) / 2
        interval = reading.measured - previous.measured
        yield Sample(MetricKey.of(MACHINE_CORES), at, float(self._cores), "Count")
        total = reading.total - previous.total
        if total > 0:
            busy = max(0, reading.busy - previous.busy) / total * 100
            yield Sample(MetricKey.of(MACHINE_CPU), at, busy, "Percent")
        if reading.lb_ticks is not None and previous.lb_ticks is not None:
            used = max(0, reading.lb_ticks - previous.lb_ticks) / _CLOCK_TICKS
            yield Sample(MetricKey.of(LB_CPU), at, used / interval * 100, "Percent")
        for task_id, (delays, throttled) in reading.waits.items():
            before = previous.waits.get(task_id)
            if before is None or throttled != before[1]:
                continue  # new, or throttled in the interval: it waited for its quota
            waited = sum(
                max(0, d - before[0][tid]) for tid, d in delays.items() if tid in before[0]
            )
            key = MetricKey.of(
                CORE_WAIT, **{names.SERVICE_DIMENSION: self._service, names.TASK_DIMENSION: task_id}
            )
            yield Sample(key, at, waited / 1e9 / interval * 100, "Percent")

    def _read(self, now: float) -> _Reading:
        busy, total = self._stat()
        waits = {}
        for task in self._tasks.running():
            try:
                waits[task.task_id] = (self._delays(task.group.pids()), task.group.throttled())
            except CgroupError:
                continue  # the task ended between listing and reading
        return _Reading(now, self._clock(), busy, total, self._lb_ticks(), waits)

    def _stat(self) -> tuple[int, int]:
        fields = (self._proc / "stat").read_text().split("\n", 1)[0].split()[1:]
        values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    def _lb_ticks(self) -> int | None:
        pid = self._haproxy_pid()
        if pid is None:
            return None
        try:
            text = (self._proc / str(pid) / "stat").read_text()
        except OSError:
            return None
        try:
            fields = text.rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        except (IndexError, ValueError):
            return None  # a stat line we cannot read (the process just ended): no figure

    def _delays(self, pids: list[int]) -> dict[int, int]:
        delays = {}
        for pid in pids:
            try:
                threads = list((self._proc / str(pid) / "task").iterdir())
            except OSError:
                continue
            for thread in threads:
                try:
                    delays[int(thread.name)] = int((thread / "schedstat").read_text().split()[1])
                except (OSError, ValueError, IndexError):
                    continue  # the thread ended
        return delays
