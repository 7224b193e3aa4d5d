"""The load generator watches its own CPU: a saturated generator measures itself, not the target.

Each Locust process runs its users on one core (gevent), so what bounds the generator is its
busiest process. `GeneratorMonitor.sample()` returns that process's CPU in percent of one core
since the previous sample: the process itself, the local worker processes it started, and the
figures remote workers report. Above 85% (`GENERATOR_BOUND_PERCENT`) during a step's steady
window, `BoundWatch` says to warn, once per step; steps.json marks such a step generator_bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import psutil

from rightsizer.load.step_stats import GENERATOR_BOUND_PERCENT


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
        local = [
            100.0 * (seconds - previous[pid]) / (now - since)
            for pid, seconds in current.items()
            if pid in previous
        ]
        figures = local + list(self._remote.values())
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
