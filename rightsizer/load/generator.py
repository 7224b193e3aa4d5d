"""The load generator watches its own CPU: a saturated generator measures itself, not the target.

Each Locust process runs its users on one core (gevent), so what bounds the generator is its
busiest process. `GeneratorMonitor.sample()` returns that process's CPU in percent of one core
since the previous sample: the process itself, the local worker processes it started, and the
figures remote workers report (`own` keeps this process's figure of the last sample). Above
85% (`GENERATOR_BOUND_PERCENT`) during a step's steady window, `BoundWatch` says to warn, once
per step; steps.json marks such a step generator_bound.

`ProcessMeter` gives one process's own figures: its CPU, and how busy its main thread (the one
gevent runs every user on) was: on a core or waiting in the run queue for one
(/proc/PID/schedstat). On a machine whose cores others share, a saturated generator gets less
than a core, so its CPU alone can stay under 85% while it can run no faster; its busy figure
still says so. Each worker reports both; the master keeps them per worker (steps.json), and
its own CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil

from rightsizer.load.step_stats import GENERATOR_BOUND_PERCENT


def scheduled_seconds(pid: int, proc: Path = Path("/proc")) -> float | None:
    """Seconds the main thread of `pid` has run plus waited to run (None: not on Linux, or
    schedstat not readable)."""
    try:
        run_ns, wait_ns, *_ = (proc / str(pid) / "schedstat").read_text().split()
        return (int(run_ns) + int(wait_ns)) / 1e9
    except (OSError, ValueError):
        return None


MIN_INTERVAL = 0.5  # seconds: CPU time is counted in clock ticks (10 ms), too coarse below


class ProcessMeter:
    """One process's CPU and busy figures, in percent of one core, since the previous call
    that gave figures: a call less than MIN_INTERVAL after it gives none (the interval goes on
    to the next call). Busy is at most 100: one thread is on a core or waiting, or not."""

    def __init__(self, pid: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._process = psutil.Process(pid)
        self._clock = clock
        self._last = self._reading()

    def _reading(self) -> tuple[float, float, float | None]:
        times = self._process.cpu_times()
        return self._clock(), times.user + times.system, scheduled_seconds(self._process.pid)

    def percent(self) -> tuple[float | None, float | None]:
        """(CPU, busy) since the previous call; busy None where schedstat is not readable."""
        (then, cpu_then, busy_then), (now, cpu_now, busy_now) = self._last, self._reading()
        if now - then < MIN_INTERVAL:
            return None, None
        self._last = (now, cpu_now, busy_now)
        cpu = 100.0 * (cpu_now - cpu_then) / (now - then)
        if busy_then is None or busy_now is None:
            return cpu, None
        return cpu, max(cpu, min(100.0, 100.0 * (busy_now - busy_then) / (now - then)))


class GeneratorMonitor:
    """CPU of the generator's processes, sampled by delta of their CPU time over wall time."""

    def __init__(
        self, pids: Iterable[int] = (), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._processes: dict[int, psutil.Process] = {}
        self._last: dict[int, float] = {}
        self._last_time: float | None = None
        self._remote: dict[str, float] = {}
        self._own_meter = ProcessMeter()
        self.own: float | None = None  # this process's CPU in the last sample
        for pid in (psutil.Process().pid, *pids):
            self.watch(pid)

    def watch(self, pid: int) -> None:
        """Include process `pid` (a local worker) from the next sample on."""
        try:
            self._processes[pid] = psutil.Process(pid)
        except psutil.NoSuchProcess:
            return

    def report_remote(self, worker: str, percent: float) -> None:
        """A remote worker's own figure, from its last report."""
        self._remote[worker] = percent

    def forget_remote(self, worker: str) -> None:
        """A worker that is gone: its last figure no longer counts."""
        self._remote.pop(worker, None)

    @staticmethod
    def _cpu_seconds(process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    def sample(self) -> float | None:
        """Percent of one core used by the busiest process since the last call (None first)."""
        now = self._clock()
        current: dict[int, float] = {}
        for pid, process in list(self._processes.items()):
            try:
                current[pid] = self._cpu_seconds(process)
            except psutil.NoSuchProcess:
                del self._processes[pid]
        previous, since = self._last, self._last_time
        self._last, self._last_time = current, now
        if since is None or now <= since:
            return None
        by_pid = {
            pid: 100.0 * (seconds - previous[pid]) / (now - since)
            for pid, seconds in current.items()
            if pid in previous
        }
        self.own, _ = self._own_meter.percent()
        figures = list(by_pid.values()) + list(self._remote.values())
        return max(figures) if figures else None


class BoundWatch:
    """Says when to warn that the generator is the bottleneck: once per step, steady window."""

    def __init__(self, threshold: float = GENERATOR_BOUND_PERCENT) -> None:
        self.threshold = threshold
        self._warned: set[int] = set()

    def check(self, step: int | None, steady: bool, percent: float | None) -> bool:
        """True exactly once for a step whose steady window sees `percent` above the threshold."""
        if step is None or not steady or percent is None or percent <= self.threshold:
            return False
        if step in self._warned:
            return False
        self._warned.add(step)
        return True

    @property
    def warned_steps(self) -> frozenset[int]:
        return frozenset(self._warned)
