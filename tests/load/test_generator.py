"""The generator's own CPU: the busiest process counts; warnings once per steady step."""

from __future__ import annotations

import subprocess
import sys
import time

from rightsizer.load.generator import BoundWatch, GeneratorMonitor


def test_the_busiest_watched_process_is_reported() -> None:
    burner = subprocess.Popen(
        [sys.executable, "-c", "import time\nt=time.time()+5\nwhile time.time()<t: pass"]
    )
    try:
        monitor = GeneratorMonitor([burner.pid])
        assert monitor.sample() is None  # the first call only primes
        time.sleep(1.0)
        busy = monitor.sample()
        assert busy is not None and busy > 30.0  # a shared machine; the burner wants 100
    finally:
        burner.kill()
        burner.wait()
    time.sleep(0.2)
    monitor.sample()  # the dead process is dropped, not an error
    assert monitor.sample() is not None  # still measuring this process


def test_remote_figures_count_too() -> None:
    monitor = GeneratorMonitor()
    monitor.sample()
    monitor.report_remote("worker-a", 97.0)
    time.sleep(0.05)
    assert monitor.sample() == 97.0


def test_bound_warning_once_per_step_and_only_in_the_steady_window() -> None:
    watch = BoundWatch()
    assert not watch.check(0, steady=False, percent=99)
    assert not watch.check(0, steady=True, percent=85.0)
    assert watch.check(0, steady=True, percent=85.1)
    assert not watch.check(0, steady=True, percent=99)
    assert not watch.check(None, steady=True, percent=99)
    assert not watch.check(1, steady=True, percent=None)
    assert watch.check(1, steady=True, percent=90)
    assert watch.warned_steps == {0, 1}
