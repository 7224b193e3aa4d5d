"""Report and comparison cost on runs the size of a demo run and of a one-hour run.

    .venv/bin/python bench/report.py

Builds synthetic run directories (4 tasks, 1 Hz series, one ClientResponseTime sample per
request) and prints the time to load a run, to write report.html with its charts, and to
compare two runs (1000 bootstrap resamples per figure), with the page sizes.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import numpy as np

from rightsizer.analysis.comparison import compare_runs
from rightsizer.analysis.recorded_run import load_run
from rightsizer.metrics import names
from rightsizer.metrics.statistics import percentile
from rightsizer.metrics.store import MetricKey, MetricStore, Sample
from rightsizer.report.html import write_comparison, write_report
from rightsizer.rundir import RunDir, write_json
from rightsizer.slo import Slo

START = 1_795_788_000.0
TASKS = 4
T = TypeVar("T")


def build_run(root: Path, label: str, step_s: float, users: list[int], rps: float) -> Path:
    """Steps of `step_s` seconds; the request rate grows with users up to `rps`."""
    rng = np.random.default_rng(len(label))
    run = RunDir.create(root, label, now=datetime(2026, 11, 27, tzinfo=UTC))
    end = START + step_s * len(users)
    samples: list[Sample] = []
    steps = []
    for index, count in enumerate(users):
        start = START + index * step_s
        rate = rps * count / users[-1]
        sent = np.sort(rng.uniform(start, start + step_s, int(rate * step_s)))
        latency = rng.lognormal(np.log(100 + 20 * count), 0.5, sent.size)
        key = MetricKey.of(names.CLIENT_RESPONSE_TIME)
        samples += [Sample(key, s + v / 1000, v) for s, v in zip(sent, latency, strict=True)]
        window = latency[sent >= start + 0.2 * step_s]
        ordered = sorted(float(v) for v in window)
        steps.append(
            {
                "index": index,
                "users": count,
                "start": start,
                "end": start + step_s,
                "steady_start": start + 0.2 * step_s,
                "requests_total": int(sent.size),
                "failures": 0,
                "fail_ratio": 0.0,
                "rps": window.size / (0.8 * step_s),
                # Nearest-rank, as rightsizer.load.step_stats computes them (np.percentile
                # interpolates between samples: a p95 no request had).
                **{f"p{p}_ms": percentile(ordered, p) for p in (50, 90, 95, 99)},
                "max_ms": ordered[-1],
                "cpu_utilization": min(100.0, 2.0 * count),
            }
        )
    for second in np.arange(START, end + 30):
        mid = float(second) + 0.5
        samples.append(Sample(MetricKey.of(names.CLIENT_USERS), mid, users[-1]))
        samples.append(Sample(MetricKey.of(names.CLIENT_RPS), mid, rps))
        for task in range(1, TASKS + 1):
            for metric in (names.CPU_UTILIZATION, names.MEMORY_UTILIZATION):
                value = float(rng.uniform(10, 90))
                samples.append(
                    Sample(MetricKey.of(metric, ServiceName="s", TaskId=str(task)), mid, value)
                )
                samples.append(Sample(MetricKey.of(metric, ServiceName="s"), mid, value))
    with MetricStore(run.metrics_path) as store:
        store.put_many(samples)
    write_json(run.steps_path, {"steps": steps})
    # The shape `rightsizer run` writes: the target as the fleet described itself.
    target = {"kind": "fleet", "url": "http://127.0.0.1:8080", "tasks": TASKS, "cpu": 0.25}
    manifest = {
        "label": label,
        "users": users,
        "slo": Slo().as_dict(),
        "target": {**target, "memory": 512, "capped": True},
        "load_start": START,
        "load_end": end,
    }
    write_json(run.manifest_path, manifest)
    return run.path


def timed(what: str, action: Callable[[], T]) -> T:
    began = time.perf_counter()
    result = action()
    print(f"  {what:<34} {time.perf_counter() - began:7.2f} s")
    return result


def bench(root: Path, name: str, step_s: float, users: list[int], rps: float) -> None:
    a = build_run(root, f"{name}-a", step_s, users, rps)
    b = build_run(root, f"{name}-b", step_s, users, rps * 1.5)
    requests = len(load_run(a).latency)
    print(f"{name}: {len(users)} steps of {step_s:g} s, {requests} requests in run A")
    timed("load_run", lambda: load_run(a))
    written = timed("write_report (5 charts + html)", lambda: write_report(a))
    run_a, run_b = load_run(a), load_run(b)
    timed("compare_runs (1000 resamples)", lambda: compare_runs(run_a, run_b))
    page, _ = timed("write_comparison", lambda: write_comparison(a, b))
    print(
        f"  report.html {written.report.stat().st_size / 1024:.0f} KiB, "
        f"compare.html {page.stat().st_size / 1024:.0f} KiB"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bench(Path(tmp), "demo-size", 60.0, [5, 10, 20, 40, 80], 40.0)
        bench(Path(tmp), "one-hour", 720.0, [5, 10, 20, 40, 80], 100.0)


if __name__ == "__main__":
    main()
