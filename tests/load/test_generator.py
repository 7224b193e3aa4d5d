"""The generator's own CPU: the busiest process counts; warnings once per steady step."""

from __future__ import annotations

import itertools
import subprocess
import sys

import psutil

from rightsizer.load.generator import BoundWatch, GeneratorMonitor
from tests.waiting import poll_until


def ticks() -> itertools.count[float]:
    """A clock that moves one second a call: each sample spans exactly 1 s."""
    return itertools.count(0.0, 1.0)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def test_the_busiest_watched_process_is_reported() -> None:
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        watched = psutil.Process(burner.pid)
        monitor = GeneratorMonitor([burner.pid], clock=ticks().__next__)
        assert monitor.sample() is None  # the first call only primes
        primed = cpu_seconds(watched)
        poll_until(lambda: cpu_seconds(watched) >= primed + 0.3, 60, "the burner's CPU")
        burned = cpu_seconds(watched) - primed
        busy = monitor.sample()  # over one (clock) second: percent = 100 x CPU seconds
        # the burner used at least `burned` in that second; this process polled, far less
        assert busy is not None and busy >= 100 * burned - 1
    finally:
        burner.kill()
        burner.wait()
    monitor.sample()  # the dead process is dropped, not an error
    assert monitor.sample() is not None  # still measuring this process


def test_remote_figures_count_too() -> None:
    monitor = GeneratorMonitor(clock=ticks().__next__)
    monitor.sample()
    monitor.report_remote("worker-a", 97.0)
    assert monitor.sample() == 97.0  # this process used far less than 0.97 s in between


def test_a_lost_worker_figure_stops_counting() -> None:
    monitor = GeneratorMonitor(clock=ticks().__next__)
    monitor.sample()
    monitor.report_remote("worker-a", 97.0)
    monitor.forget_remote("worker-a")
    busy = monitor.sample()  # this process alone: far less than 0.97 s in one clock second
    assert busy is not None and busy < 97.0


def test_bound_warning_once_per_step_and_only_in_the_steady_window() -> None:
    watch = BoundWatch(threshold=50.0)
    assert not watch.check(0, steady=False, percent=99)
    assert not watch.check(0, steady=True, percent=50.0)  # above the threshold, not at it
    assert watch.check(0, steady=True, percent=50.1)
    assert not watch.check(0, steady=True, percent=99)
    assert not watch.check(None, steady=True, percent=99)
    assert not watch.check(1, steady=True, percent=None)
    assert watch.check(1, steady=True, percent=90)
    assert watch.warned_steps == {0, 1}


def test_by_default_a_saturated_generator_warns_and_a_lightly_used_one_does_not() -> None:
    # a whole core busy: the generator, not the service, paces the requests
    assert BoundWatch().check(0, steady=True, percent=99.0)
    # under half a core: the generator keeps up
    assert not BoundWatch().check(0, steady=True, percent=40.0)
