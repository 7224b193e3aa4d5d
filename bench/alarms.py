"""Alarm evaluation cost: 100 live alarms over a one-hour run at 1 Hz, and a full replay.

    .venv/bin/python bench/alarms.py

Prints the cost per alarm per evaluation (the live evaluator, every boundary of one hour, with
its SQLite reads) and the time of a full replay of one alarm over one hour at 10 s periods
(target: under 50 ms), from the run directory on disk.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.live import LiveAlarms
from rightsizer.alarms.replay import ReplayGrid, base_alarm, replay
from rightsizer.metrics.store import MetricKey, MetricStore, Sample
from rightsizer.rundir import RunDir, write_json

HOUR = 3600
START = 1_795_788_000.0  # 27/11/26 14:00:00 UTC
TASKS = 4


def build_run(root: Path) -> RunDir:
    """One hour of 1 Hz samples: service and per-task CPU and memory, client response times."""
    run = RunDir.create(root, "bench", now=datetime(2026, 11, 27, 14, tzinfo=UTC))
    write_json(run.manifest_path, {"load_start": START + 60, "load_end": START + HOUR - 60})
    steps = [
        {
            "index": i,
            "users": 10 * (i + 1),
            "start": START + 60 + 600 * i,
            "end": START + 660 + 600 * i,
            "p95_ms": 200.0 * (i + 1),
            "fail_ratio": 0.0,
        }
        for i in range(6)
    ]
    write_json(run.steps_path, {"steps": steps})
    with MetricStore(run.metrics_path) as store:
        for second in range(HOUR):
            t = START + second + 0.5
            load = 15 + 70 * second / HOUR + 5 * math.sin(second / 7)
            batch = [Sample(MetricKey.of("CPUUtilization", ServiceName="uploader"), t, load)]
            for task in range(1, TASKS + 1):
                dims = {"ServiceName": "uploader", "TaskId": str(task)}
                batch.append(Sample(MetricKey.of("CPUUtilization", **dims), t, load + task))
                batch.append(Sample(MetricKey.of("MemoryUtilization", **dims), t, 30 + task))
            batch += [
                Sample(MetricKey.of("ClientResponseTime"), t, 50 + (second * k) % 900)
                for k in range(1, 6)
            ]
            store.put_many(batch)
    return run


def hundred_alarms() -> list[AlarmDefinition]:
    alarms = []
    metrics = [
        ("CPUUtilization", {"ServiceName": "uploader"}, "Average"),
        ("CPUUtilization", {"ServiceName": "uploader", "TaskId": "2"}, "Maximum"),
        ("MemoryUtilization", {"ServiceName": "uploader", "TaskId": "3"}, "Average"),
        ("ClientResponseTime", {}, "p95"),
    ]
    for i in range(100):
        name, dims, stat = metrics[i % len(metrics)]
        period = (10, 20, 30, 60)[(i // 4) % 4]  # 16 (series, period) pairs
        n = (1, 3, 5)[i % 3]
        doc = base_alarm(name, stat, dimensions=dims).to_json() | {
            "AlarmName": f"alarm-{i}",
            "Period": period,
            "EvaluationPeriods": n,
            "DatapointsToAlarm": max(1, n - i % 2),
            "Threshold": 20.0 + i % 60,
        }
        alarms.append(AlarmDefinition.from_json(doc))
    return alarms


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def live_cost(run: RunDir) -> tuple[float, int, float]:
    """Seconds per alarm-evaluation, evaluations made, and the worst 10 s tick (seconds)."""
    alarms = hundred_alarms()
    clock = Clock()
    evaluations = sum(HOUR // a.period for a in alarms)
    with MetricStore(run.metrics_path) as store:
        live = LiveAlarms(alarms, store, db_path=run.metrics_path, clock=clock)
        worst = 0.0
        started = time.perf_counter()
        for tick in range(10, HOUR + 1, 10):  # the live thread wakes at every 10 s boundary
            clock.now = START + tick + 0.3
            t0 = time.perf_counter()
            live.evaluate_due(clock.now)
            worst = max(worst, time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        live.actions.close()
    return elapsed / evaluations, evaluations, worst


def replay_times(run: RunDir, repeats: int = 15) -> list[float]:
    """Full replays (read the run from disk, evaluate every boundary) of one 10 s alarm."""
    grid = ReplayGrid(base_alarm("CPUUtilization"), thresholds=(50,), periods=(10,))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        (row,) = replay(run, grid)
        times.append(time.perf_counter() - t0)
        assert row.first_alarm_s is not None
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run = build_run(Path(tmp))
        print(f"one-hour run built in {time.perf_counter() - t0:.1f} s ({run.metrics_path})")
        per_eval, count, worst = live_cost(run)
        print(
            f"live: 100 alarms, {count} evaluations over one hour: "
            f"{per_eval * 1e6:.0f} us per alarm per evaluation; "
            f"worst 10 s tick {worst * 1e3:.1f} ms"
        )
        times = replay_times(run)
        print(
            f"replay of one alarm over one hour at 10 s periods (360 evaluations, from disk): "
            f"median {statistics.median(times) * 1e3:.1f} ms, best {min(times) * 1e3:.1f} ms "
            f"(target < 50 ms)"
        )
        grid = ReplayGrid(
            base_alarm("CPUUtilization"),
            thresholds=(20, 30, 50, 70),
            periods=(10, 60),
            evaluation_periods=(1, 3),
        )
        t0 = time.perf_counter()
        rows = replay(run, grid)
        print(f"replay grid of {len(rows)} settings: {(time.perf_counter() - t0) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
