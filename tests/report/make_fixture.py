"""Write the two small run directories under tests/report/fixtures/ (run once; output checked in).

    .venv/bin/python tests/report/make_fixture.py

They stand in for recorded runs until real ones replace them, so they are SIMULATED, not
measured: a discrete-event model of closed-loop users (GET then POST, then `between(1, 5)` s
of waiting, like the bundled scenario) against FCFS tasks that each do 0.4 s of work per
iteration at their 0.25-vCPU reservation (the seed's "3-4 s at 20 users" on one task), and
one shared database whose write lock each POST holds for 0.15 s (so 4 tasks stop scaling
there, with CPU to spare). Every
file has the shape the real writers give it (issue 4's steps.json, the metric store's series
names, issue 5's alarm history with CloudWatch reason strings), and steps.json is computed from
the same raw samples that metrics.db holds, so tests can check one against the other.
"""

from __future__ import annotations

import heapq
import json
import math
import shutil
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from rightsizer.alarms.history import HistoryItem, append, save_definitions
from rightsizer.metrics import names
from rightsizer.metrics.statistics import percentile
from rightsizer.metrics.store import MetricKey, MetricStore, Sample

HERE = Path(__file__).resolve().parent / "fixtures"
T0 = 1_764_250_000.0  # 2025-11-27 13:26:40 UTC
USERS = {1: (1, 5, 20), 4: (5, 20, 40)}
STEP_TIME = 30.0
WARMUP = 0.2
COOL_DOWN = 20.0
GET, POST = "/index.php", "/index.php?action=save"
# CPU seconds at the reservation per request (the POST stores ~100 KB and writes the DB).
DEMAND = {GET: 0.06, POST: 0.34}
# Seconds each POST holds the one shared database (its write lock), whatever the task count.
DB_HOLD = 0.15
SERVICE = names.DEFAULT_SERVICE
THRESHOLD = 20.0
ALARM: dict[str, object] = {
    "AlarmName": "cpu-high",
    "Namespace": names.NAMESPACE,
    "MetricName": names.CPU_UTILIZATION,
    "Dimensions": [{"Name": "ServiceName", "Value": SERVICE}],
    "Statistic": "Average",
    "Period": 10,
    "EvaluationPeriods": 1,
    "DatapointsToAlarm": 1,
    "Threshold": THRESHOLD,
    "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "missing",
}


@dataclass
class Request:
    name: str
    sent: float
    done: float
    task: int
    failed: bool

    @property
    def latency_ms(self) -> float:
        return (self.done - self.sent) * 1000


@dataclass
class Simulation:
    tasks: int
    rng: np.random.Generator
    free: list[float] = field(default_factory=list)
    db_free: float = 0.0
    busy: dict[tuple[int, int], float] = field(default_factory=lambda: defaultdict(float))
    requests: list[Request] = field(default_factory=list)
    turn: int = 0

    def __post_init__(self) -> None:
        self.free = [0.0] * self.tasks

    def serve(self, name: str, sent: float) -> float:
        """FCFS on the next task (round robin, as HAProxy does), then for a POST FCFS on the
        shared database; the task is free again while its request waits on the database."""
        task = self.turn % self.tasks
        self.turn += 1
        start = max(sent + 0.001, self.free[task])
        done = start + DEMAND[name] * float(self.rng.lognormal(0.0, 0.35))
        self.free[task] = done
        self._account(task, start, done)
        if name == POST:
            done = max(done, self.db_free) + DB_HOLD * float(self.rng.lognormal(0.0, 0.2))
            self.db_free = done
        # Clients time out now and then once responses take seconds.
        failed = bool(self.rng.random() < 0.02 * max(0.0, done - sent - 2.0))
        self.requests.append(Request(name, sent, done + 0.001, task, failed))
        return done + 0.001

    def _account(self, task: int, start: float, end: float) -> None:
        second = math.floor(start)
        while second < end:
            self.busy[(task, second)] += min(end, second + 1) - max(start, second)
            second += 1


def simulate(tasks: int, seed: int) -> tuple[Simulation, list[tuple[float, float, int]]]:
    """Run the steps; returns the simulation and the steps' (start, end, users)."""
    sim = Simulation(tasks, np.random.default_rng(seed))
    steps = [(T0 + i * STEP_TIME, T0 + (i + 1) * STEP_TIME, u) for i, u in enumerate(USERS[tasks])]
    load_end = steps[-1][1]
    events: list[tuple[float, int, str]] = []
    spawned = 0
    for start, _, count in steps:
        for user in range(spawned, count):
            heapq.heappush(events, (start + (user - spawned) * 0.1, user, GET))
        spawned = count
    while events:
        now, user, name = heapq.heappop(events)
        if now >= load_end:
            continue  # the user stops; requests already sent have finished
        done = sim.serve(name, now)
        if name == GET:
            heapq.heappush(events, (done, user, POST))
        else:
            heapq.heappush(events, (done + float(sim.rng.uniform(1, 5)), user, GET))
    return sim, steps


def series(sim: Simulation, steps: list[tuple[float, float, int]]) -> list[Sample]:
    """Per-second samples, stamped mid-second, as the samplers write them."""
    out: list[Sample] = []
    end = steps[-1][1]
    key = MetricKey.of
    for r in sim.requests:
        out.append(Sample(key(names.CLIENT_RESPONSE_TIME), r.done, r.latency_ms, "Milliseconds"))
    for second in range(int(T0), int(end)):
        done = [r for r in sim.requests if second <= r.done < second + 1]
        users = next(u for s, e, u in steps if s <= second < e)
        mid = second + 0.5
        out += [
            Sample(key(names.CLIENT_USERS), mid, users, "Count"),
            Sample(key(names.CLIENT_RPS), mid, len(done), "Count/Second"),
            Sample(key(names.CLIENT_REQUEST_COUNT), mid, len(done), "Count"),
            Sample(key(names.CLIENT_FAILURE_COUNT), mid, sum(r.failed for r in done), "Count"),
            Sample(key(names.GENERATOR_CPU), mid, 2 + 0.4 * len(done), "Percent"),
        ]
        if done:
            average = sum(r.latency_ms for r in done) / len(done) / 1000 - 0.0005
            lb = key(names.TARGET_RESPONSE_TIME, LoadBalancer=names.DEFAULT_LOAD_BALANCER)
            out.append(Sample(lb, mid, average, "Seconds"))
    for second in range(int(T0), int(end + COOL_DOWN)):
        for task in range(sim.tasks):
            out += task_samples(sim, task, second)
    return out


def task_samples(sim: Simulation, task: int, second: int) -> list[Sample]:
    busy = sim.busy.get((task, second), 0.0)
    cpu = min(100.0, busy * 100 + float(sim.rng.uniform(0.5, 2.0)))
    queued = sum(1 for r in sim.requests if r.task == task and r.sent <= second < r.done)
    memory = 11.0 + 0.6 * queued + float(sim.rng.uniform(-0.2, 0.2))
    mid = second + 0.5
    per_task = {"ServiceName": SERVICE, "TaskId": str(task + 1)}
    return [
        Sample(MetricKey.of(names.CPU_UTILIZATION, **per_task), mid, cpu, "Percent"),
        Sample(MetricKey.of(names.CPU_UTILIZATION, ServiceName=SERVICE), mid, cpu, "Percent"),
        Sample(MetricKey.of(names.MEMORY_UTILIZATION, **per_task), mid, memory, "Percent"),
        Sample(MetricKey.of(names.MEMORY_UTILIZATION, ServiceName=SERVICE), mid, memory, "Percent"),
    ]


def step_table(
    sim: Simulation, steps: list[tuple[float, float, int]], samples: list[Sample]
) -> list[dict[str, object]]:
    """steps.json as issue 4 defines it, from the raw samples."""
    table = []
    for index, (start, end, users) in enumerate(steps):
        steady = start + WARMUP * (end - start)
        # A request belongs to the step it was sent in (issue 4); the last step keeps the
        # requests that finished after the load stopped.
        whole = [r for r in sim.requests if start <= r.sent < end]
        window = [r for r in whole if r.sent >= steady]
        lat = sorted(r.latency_ms for r in window)

        def mean(name: str, dims: dict[str, str], lo: float = steady, hi: float = end) -> float:
            k = MetricKey.of(name, **dims)
            values = [s.value for s in samples if s.key == k and lo <= s.timestamp < hi]
            return sum(values) / len(values)

        per_task = [
            mean(names.CPU_UTILIZATION, {"ServiceName": SERVICE, "TaskId": str(t + 1)})
            for t in range(sim.tasks)
        ]
        table.append(
            {
                "index": index,
                "users": users,
                "start": start,
                "end": end,
                "steady_start": steady,
                "requests_total": len(whole),
                "failures": sum(r.failed for r in whole),
                "fail_ratio": sum(r.failed for r in window) / len(window),
                "rps": len(window) / (end - steady),
                **{f"p{p}_ms": percentile(lat, p) for p in (50, 90, 95, 99)},
                "max_ms": lat[-1],
                "cpu_utilization": mean(names.CPU_UTILIZATION, {"ServiceName": SERVICE}),
                "cpu_utilization_max": max(per_task),
                "memory_utilization": mean(names.MEMORY_UTILIZATION, {"ServiceName": SERVICE}),
                "generator_cpu": mean(names.GENERATOR_CPU, {}),
                "generator_bound": False,
                "requests": {
                    name: request_stats(window, whole, name, end - steady) for name in (GET, POST)
                },
            }
        )
    return table


def request_stats(
    window: list[Request], whole: list[Request], name: str, seconds: float
) -> dict[str, float]:
    lat = sorted(r.latency_ms for r in window if r.name == name)
    return {
        "count": sum(r.name == name for r in whole),
        "failures": sum(r.failed for r in whole if r.name == name),
        "rps": len(lat) / seconds,
        "p50_ms": percentile(lat, 50),
        "p95_ms": percentile(lat, 95),
        "p99_ms": percentile(lat, 99),
        "max_ms": lat[-1],
    }


def alarm_history(samples: list[Sample], end: float) -> list[HistoryItem]:
    """The seed's alarm (> 20%, 1 of 1, 10 s periods) evaluated at each period boundary."""
    key = MetricKey.of(names.CPU_UTILIZATION, ServiceName=SERVICE)
    cpu = [(s.timestamp, s.value) for s in samples if s.key == key]
    state, items = "INSUFFICIENT_DATA", []
    boundary = math.floor(T0 / 10) * 10 + 10
    for at in np.arange(boundary, end + 10, 10.0):
        values = [v for t, v in cpu if at - 10 <= t < at]
        if not values:
            continue
        value = sum(values) / len(values)
        new = "ALARM" if value > THRESHOLD else "OK"
        if new != state:
            items.append(transition(state, new, float(at), value))
            state = new
    return items


def transition(old: str, new: str, at: float, value: float) -> HistoryItem:
    stamp = datetime.fromtimestamp(at - 10, UTC)
    when = stamp.strftime("%d/%m/%y %H:%M:%S")
    verb = "was greater than" if new == "ALARM" else "was not greater than"
    direction = "OK -> ALARM" if new == "ALARM" else "ALARM -> OK"
    reason = (
        f"Threshold Crossed: 1 out of the last 1 datapoints [{value!r} ({when})] {verb} the "
        f"threshold (20.0) (minimum 1 datapoint for {direction} transition)."
    )
    data = {
        "version": "1.0",
        "queryDate": datetime.fromtimestamp(at, UTC).isoformat(),
        "statistic": "Average",
        "period": 10,
        "threshold": 20.0,
        "recentDatapoints": [value],
        "evaluatedDatapoints": [{"timestamp": stamp.isoformat(), "value": value}],
    }
    return HistoryItem("cpu-high", at, old, new, reason, data)


def write_run(folder: Path, tasks: int, seed: int) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    sim, steps = simulate(tasks, seed)
    samples = series(sim, steps)
    db = folder / "metrics.db"
    with MetricStore(db) as store:
        store.put_many(samples)
    save_definitions(db, [("cpu-high", ALARM)])
    append(db, alarm_history(samples, steps[-1][1] + COOL_DOWN))
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    conn.execute("VACUUM")
    conn.close()
    label = f"fixture-{tasks}-task" + ("s" if tasks > 1 else "")
    manifest = {
        "label": label,
        "fixture": "SIMULATED by tests/report/make_fixture.py, not measured",
        "host": "http://127.0.0.1:8080",
        "scenario": "rightsizer/scenarios/uploader.py",
        "tasks": tasks,
        "cpu": 0.25,
        "memory": 512,
        "users": list(USERS[tasks]),
        "step_time": STEP_TIME,
        "warmup": WARMUP,
        "load_start": steps[0][0],
        "load_end": steps[-1][1],
        "slo": {"p95_ms": 1000, "failure_pct": 1.0},
        "alarms": ["cpu-high"],
        "git_revision": "fixture",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    document = {"steps": step_table(sim, steps, samples)}
    (folder / "steps.json").write_text(json.dumps(document, indent=2) + "\n")


def main() -> None:
    write_run(HERE / "run-1-task", tasks=1, seed=5)
    write_run(HERE / "run-4-tasks", tasks=4, seed=4)
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"wrote {HERE} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
