"""CPU and memory utilization from group readings (a scripted Group at the protocol seam)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rightsizer.cgroup.group import MemoryUsage
from rightsizer.errors import CgroupError
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, Sample
from rightsizer.metrics.task_sampler import TaskSampler, TaskView


@dataclass
class ScriptedGroup:
    """Readings a test sets by hand; `gone` makes every read fail like a removed group."""

    usage: int = 0
    throttled_periods: int = 0
    rss: int = 0
    cache: int = 0
    inactive_file: int = 0
    gone: bool = False
    name: str = "task-1"
    capped: bool = True
    pid_list: list[int] = field(default_factory=list)

    def procs_files(self) -> tuple[Path, ...]:
        return ()

    def add_pid(self, pid: int) -> None:
        self.pid_list.append(pid)

    def pids(self) -> list[int]:
        return self.pid_list

    def _check(self) -> None:
        if self.gone:
            raise CgroupError("group removed")

    def usage_ns(self) -> int:
        self._check()
        return self.usage

    def memory(self) -> MemoryUsage:
        self._check()
        return MemoryUsage(self.rss, self.cache, self.inactive_file)

    def throttled(self) -> int:
        self._check()
        return self.throttled_periods

    def oom_kills(self) -> int:
        return 0

    def remove(self) -> None:
        self.gone = True


@dataclass
class Tasks:
    views: list[TaskView]

    def running(self) -> list[TaskView]:
        return self.views


@dataclass
class Clock:
    """A monotonic clock the test moves by hand (the sampler's measured interval)."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def _by_key(samples: list[Sample]) -> dict[MetricKey, list[float]]:
    out: dict[MetricKey, list[float]] = {}
    for s in samples:
        out.setdefault(s.key, []).append(s.value)
    return out


def test_utilization_is_against_the_reservation_at_the_interval_middle() -> None:
    a, b = ScriptedGroup(), ScriptedGroup(name="task-2")
    clock = Clock(50.0)
    tasks = Tasks([TaskView("1", a), TaskView("2", b)])
    sampler = TaskSampler(tasks, cpu=0.25, memory_mb=100, clock=clock)
    first = list(sampler.sample(1000.0))
    # A baseline only: nothing measured yet except the running task count.
    assert [s.key.name for s in first] == [names.RUNNING_TASK_COUNT]
    a.usage += 125_000_000  # 0.125 s of CPU in 1 s = half of 0.25 vCPU
    b.usage += 250_000_000  # the whole quota
    a.throttled_periods, b.throttled_periods = 0, 9
    a.rss, a.cache, a.inactive_file = 40 * 2**20, 30 * 2**20, 20 * 2**20
    clock.now += 1.0
    samples = list(sampler.sample(1001.0))
    got = _by_key(samples)

    def key(name: str, task: str | None = None) -> MetricKey:
        return MetricKey.of(name, ServiceName="uploader", **({"TaskId": task} if task else {}))

    assert got[key(names.CPU_UTILIZATION, "1")] == [pytest.approx(50.0)]
    assert got[key(names.CPU_UTILIZATION, "2")] == [pytest.approx(100.0)]
    assert got[key(names.MEMORY_UTILIZATION, "1")] == [pytest.approx(50.0)]
    assert got[key(names.MEMORY_RSS, "1")] == [40 * 2**20]
    # (40 + 30 - 20) MiB of 100 MiB: the inactive page cache does not count as used.
    assert got[key(names.MEMORY_CACHE, "1")] == [30 * 2**20]
    assert got[key(names.CPU_THROTTLED_PERIODS, "2")] == [9.0]
    # Service level: one sample per task, so Average and Maximum are across tasks.
    assert sorted(got[key(names.CPU_UTILIZATION)]) == [pytest.approx(50.0), pytest.approx(100.0)]
    assert got[key(names.RUNNING_TASK_COUNT)] == [2.0]
    per_task = [s for s in samples if s.key.name != names.RUNNING_TASK_COUNT]
    assert {s.timestamp for s in per_task} == {1000.5}


def test_a_task_that_went_away_is_skipped_and_forgotten() -> None:
    group = ScriptedGroup()
    tasks = Tasks([TaskView("1", group)])
    clock = Clock()
    sampler = TaskSampler(tasks, cpu=1.0, memory_mb=64, clock=clock)
    list(sampler.sample(10.0))
    clock.now += 1
    group.gone = True
    assert [s.key.name for s in sampler.sample(11.0)] == [names.RUNNING_TASK_COUNT]
    tasks.views = []
    list(sampler.sample(12.0))
    # A new task with the same id starts from a fresh baseline.
    tasks.views = [TaskView("1", ScriptedGroup(usage=10**12))]
    assert [s.key.name for s in sampler.sample(13.0)] == [names.RUNNING_TASK_COUNT]


def test_counters_going_backwards_never_give_negative_values() -> None:
    group = ScriptedGroup(usage=5_000_000_000, throttled_periods=10)
    clock = Clock()
    sampler = TaskSampler(Tasks([TaskView("1", group)]), cpu=0.5, memory_mb=64, clock=clock)
    list(sampler.sample(0.0))
    group.usage, group.throttled_periods = 0, 0
    clock.now += 2
    values = {s.key.name: s.value for s in sampler.sample(2.0) if "TaskId" in s.key.dimension_map}
    assert values[names.CPU_UTILIZATION] == 0.0
    assert values[names.CPU_THROTTLED_PERIODS] == 0.0


def test_cpu_is_over_the_measured_interval_not_the_scheduled_one() -> None:
    # The tick at 1001 ran 0.25 s late and the one at 1002 on time: 1.25 s, then 0.75 s.
    group = ScriptedGroup()
    clock = Clock(100.0)
    sampler = TaskSampler(Tasks([TaskView("1", group)]), cpu=1.0, memory_mb=64, clock=clock)
    list(sampler.sample(1000.0))
    readings = []
    for elapsed, scheduled in ((1.25, 1001.0), (0.75, 1002.0)):
        clock.now += elapsed
        group.usage += round(elapsed * 0.4 * 1e9)  # a steady 40% of one vCPU
        cpu = [s for s in sampler.sample(scheduled) if s.key.name == names.CPU_UTILIZATION]
        readings.append((cpu[0].timestamp, cpu[0].value))
    assert [t for t, _ in readings] == [1000.5, 1001.5]
    assert [v for _, v in readings] == pytest.approx([40.0, 40.0])


def test_a_clock_that_did_not_move_gives_no_reading() -> None:
    group = ScriptedGroup()
    sampler = TaskSampler(Tasks([TaskView("1", group)]), cpu=1.0, memory_mb=64, clock=Clock())
    list(sampler.sample(1.0))
    group.usage += 10**9
    assert [s.key.name for s in sampler.sample(2.0)] == [names.RUNNING_TASK_COUNT]
