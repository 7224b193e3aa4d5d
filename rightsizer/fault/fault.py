"""A fault to inject during a run's load: its kind, when it starts, how long it lasts, which task.

    Fault.parse("kill-task@20s")          # SIGKILL task 1's process 20 s into the load
    Fault.parse("freeze-task@30s+5s:2")   # freeze task 2's group from 30 s to 35 s
    Fault.parse("lb-drain@1m+10s")        # HAProxy's drain state for task 1, 60 s to 70 s
    Fault.parse("db-outage@40s+15s")      # the uploader's SQLite database locked, 40 s to 55 s
    check_faults(faults, load_seconds=90, tasks=2, fleet=True)   # UsageError: one line

`--fault KIND@START[+DURATION][:TASK]` on `run` and `demo`, or `faults = ["..."]` in
rightsizer.toml. Times are seconds from the start of the load (`20`, `20s`, `1.5m`). TASK is the
task's slot, its HAProxy server `t<slot>`, from 1; it defaults to 1 (`db-outage`, `db-latency`
and `cpu-steal` take none: they hit the database and the cores every task shares). Kinds that
play an outage for a while (`freeze-task`, `lb-drain`, `db-outage`, `db-latency`, `cpu-steal`)
need a duration; `kill-task` and `oom-task` (an instant: the kernel kills the task) take none.
`db-latency` adds DB_LATENCY_S to every round trip to a MariaDB database
(rightsizer.fault.db_proxy).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from rightsizer.config import find_config_file, read_config_file
from rightsizer.errors import ConfigError, UsageError

_SPEC = re.compile(
    r"^(?P<kind>[a-z-]+)@(?P<start>[^+:]+)(?:\+(?P<duration>[^:]+))?(?::(?P<task>.+))?$"
)
_TIME = re.compile(r"^(?P<number>\d+(?:\.\d+)?)(?P<unit>s|m)?$")
_UNITS = {None: 1.0, "s": 1.0, "m": 60.0}
FLAG = "--fault"
DB_LATENCY_S = 0.2  # what db-latency adds to each round trip to the database


class FaultKind(Enum):
    """What breaks; the value is the spelling in `--fault`."""

    KILL_TASK = "kill-task"  # SIGKILL the task's process; the fleet restarts it as it does
    OOM_TASK = "oom-task"  # its memory group over the limit: the kernel's OOM killer kills it
    FREEZE_TASK = "freeze-task"  # the cgroup freezer: the task hangs but stays connected
    LB_DRAIN = "lb-drain"  # HAProxy's drain state through its runtime API, then ready
    DB_OUTAGE = "db-outage"  # SQLite: an exclusive lock held; MariaDB: the tcp proxy refuses
    DB_LATENCY = "db-latency"  # MariaDB: the tcp proxy delays each round trip (DB_LATENCY_S)
    CPU_STEAL = "cpu-steal"  # a noisy neighbour: one busy process per core the tasks may use

    @property
    def on_task(self) -> bool:
        """Whether it hits one task (`:TASK`); db-outage and cpu-steal hit what the tasks
        share (the database, the cores)."""
        return self not in (FaultKind.DB_OUTAGE, FaultKind.DB_LATENCY, FaultKind.CPU_STEAL)

    @property
    def on_database(self) -> bool:
        """Whether it hits the uploader's database (MariaDB: through the run's tcp proxy)."""
        return self in (FaultKind.DB_OUTAGE, FaultKind.DB_LATENCY)

    @property
    def lasts(self) -> bool:
        """Whether the kind holds for a duration (and is undone at its end)."""
        return self not in (FaultKind.KILL_TASK, FaultKind.OOM_TASK)


def parse_seconds(text: str, what: str) -> float:
    """`20`, `20s`, `1.5m` in seconds; UsageError naming `what` otherwise."""
    match = _TIME.match(text.strip())
    if match is None:
        raise UsageError(f"{FLAG}: {what} {text!r} is not a time; write 20s, 1.5m or 20")
    return float(match["number"]) * _UNITS[match["unit"]]


@dataclass(frozen=True)
class Fault:
    """One scheduled fault: `start` and `duration` in seconds from the load's start; `task` is
    the slot (from 1) it hits."""

    kind: FaultKind
    start: float
    duration: float = 0.0
    task: int = 1

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def text(self) -> str:
        """Its `--fault` spelling."""
        duration = f"+{self.duration:g}s" if self.kind.lasts else ""
        task = f":{self.task}" if self.kind.on_task else ""
        return f"{self.kind.value}@{self.start:g}s{duration}{task}"

    @classmethod
    def parse(cls, text: str) -> Fault:
        """The fault `KIND@START[+DURATION][:TASK]` names; UsageError (one line) otherwise."""
        match = _SPEC.match(text.strip())
        if match is None:
            raise UsageError(f"{FLAG}: {text!r} is not KIND@START[+DURATION][:TASK]")
        try:
            kind = FaultKind(match["kind"])
        except ValueError:
            kinds = ", ".join(k.value for k in FaultKind)
            raise UsageError(f"{FLAG}: unknown kind {match['kind']!r}; give {kinds}") from None
        start = parse_seconds(match["start"], "start")
        duration = 0.0
        if match["duration"] is not None:
            if not kind.lasts:
                raise UsageError(f"{FLAG}: {kind.value} takes no duration ({text!r})")
            duration = parse_seconds(match["duration"], "duration")
            if duration <= 0:
                raise UsageError(f"{FLAG}: {text!r} lasts 0 s; give a duration above 0")
        elif kind.lasts:
            raise UsageError(f"{FLAG}: {kind.value} needs a duration, e.g. {kind.value}@20s+5s")
        task = 1
        if match["task"] is not None and not kind.on_task:
            raise UsageError(f"{FLAG}: {kind.value} hits no task; drop :{match['task']}")
        if match["task"] is not None:
            if not match["task"].isdigit() or int(match["task"]) < 1:
                raise UsageError(f"{FLAG}: task {match['task']!r} is not a task number from 1")
            task = int(match["task"])
        return cls(kind, start, duration, task)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "start": self.start,
            "duration": self.duration,
            "task": self.task,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Fault:
        """From `to_json`'s form; ValueError when it is not one."""
        if not isinstance(raw, dict):
            raise ValueError("a fault is an object")
        start, duration, task = raw.get("start"), raw.get("duration", 0.0), raw.get("task", 1)
        if not isinstance(start, int | float) or not isinstance(duration, int | float):
            raise ValueError("a fault's start and duration are numbers")
        if not isinstance(task, int) or isinstance(task, bool):
            raise ValueError("a fault's task is a number")
        return cls(FaultKind(raw.get("kind")), float(start), float(duration), task)


def check_faults(
    faults: Sequence[Fault], *, load_seconds: float | None, tasks: int, fleet: bool
) -> None:
    """UsageError (one line) for a fault this run cannot do: on a `--host` run (every kind
    needs the fleet this run starts), past the load's end, on a task the fleet does not have,
    or overlapping another fault on the same task."""
    for fault in faults:
        if not fleet:
            raise UsageError(
                f"{FLAG} {fault.text}: {fault.kind.value} needs the fleet this run starts; "
                "drop --host"
            )
        bounded = load_seconds is not None and math.isfinite(load_seconds)
        if bounded and (fault.end > load_seconds or fault.start >= load_seconds):  # type: ignore[operator]
            raise UsageError(
                f"{FLAG} {fault.text}: ends after the load's {load_seconds:g} s; "
                "start it earlier or add steps"
            )
        if fault.kind.on_task and fault.task > tasks:
            raise UsageError(f"{FLAG} {fault.text}: the fleet has {tasks} task(s)")
    ordered = sorted(faults, key=lambda f: (f.kind.on_task, f.task, f.start))
    for before, after in itertools.pairwise(ordered):
        same = before.kind.on_task == after.kind.on_task and before.task == after.task
        if same and after.start < before.end:
            raise UsageError(f"{FLAG} {after.text}: overlaps {before.text}")


def parse_faults(texts: Sequence[str]) -> tuple[Fault, ...]:
    """Every `--fault`, in start order."""
    return tuple(sorted((Fault.parse(text) for text in texts), key=lambda f: f.start))


def run_faults(
    flags: Sequence[str], config_file: Path | None, env: Mapping[str, str], cwd: Path
) -> tuple[Fault, ...]:
    """The `--fault` flags when given, else `faults = ["kill-task@20s", ...]` of the config
    file (rightsizer.toml); ConfigError naming the file for a value that is not a list of
    texts."""
    if flags:
        return parse_faults(flags)
    path, label = find_config_file(config_file, env, cwd)
    if path is None:
        return ()
    raw = read_config_file(path, label).get("faults", [])
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(f"{label}: faults", 'expected a list like ["kill-task@20s"]')
    return parse_faults(raw)
