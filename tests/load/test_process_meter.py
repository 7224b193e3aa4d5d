"""A generator process's own figures: CPU, and busy (on a core or waiting for one)."""

from __future__ import annotations

import os
from pathlib import Path

from rightsizer.load.generator import ProcessMeter, scheduled_seconds


def test_scheduled_seconds_add_run_and_run_queue_wait(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "schedstat").write_text("1500000000 250000000 17\n")
    assert scheduled_seconds(42, tmp_path) == 1.75
    assert scheduled_seconds(43, tmp_path) is None  # no such process
    (tmp_path / "42" / "schedstat").write_text("garbage\n")
    assert scheduled_seconds(42, tmp_path) is None


def test_busy_is_never_below_cpu_and_counts_what_this_thread_ran() -> None:
    ticks = iter([0.0, 1.0])
    before = scheduled_seconds(os.getpid())
    meter = ProcessMeter(os.getpid(), clock=lambda: next(ticks))
    spent = sum(i * i for i in range(300_000))  # some CPU on this thread between the readings
    cpu, busy = meter.percent()
    after = scheduled_seconds(os.getpid())
    assert spent > 0 and cpu is not None and busy is not None and before is not None
    assert after is not None
    assert cpu > 0 and busy >= cpu
    # One second of fake wall time: busy is the scheduled seconds in between, in percent (or
    # the process's CPU, which counts every thread, when that is more).
    assert busy <= 100.0 * (after - before) + 1e-6 or busy == cpu


def test_a_call_too_soon_gives_no_figures_and_the_interval_goes_on() -> None:
    ticks = iter([0.0, 0.1, 2.0])
    meter = ProcessMeter(os.getpid(), clock=lambda: next(ticks))
    assert meter.percent() == (None, None)  # 0.1 s: CPU ticks are too coarse for it
    cpu, busy = meter.percent()  # measured over the whole 2 s since the first reading
    assert cpu is not None and busy is not None
    assert 0.0 <= busy <= 100.0 or busy == cpu
