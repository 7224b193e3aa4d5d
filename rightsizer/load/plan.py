"""What a step-load run does, decided before anything starts: a frozen `RunPlan`.

    plan = RunPlan.build(users="1,3,20", step_time=60, warmup=0.2)
    plan.step_at(75.0)   # -> 1: the second step (3 users) runs from 60 s to 120 s
    plan.step_at(180.0)  # -> None: the load is over

Bad values raise UsageError naming the flag, so the CLI prints one line and exits 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rightsizer.errors import UsageError

MAX_STEPS = 1000
MAX_USERS = 1_000_000
MIN_STEP_TIME = 1.0  # Locust asks the shape for the user count once a second
# Without --spawn-rate every step's new users start at once; Locust warns above 100 a second.
MAX_DEFAULT_SPAWN_RATE = 100.0


def parse_users(text: str) -> tuple[int, ...]:
    """`"1,3,20"` -> (1, 3, 20): positive whole numbers, one per step, in the order given."""
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not part for part in parts):
        raise UsageError(f"--users: {text!r} has an empty step; give user counts like 1,3,20")
    counts: list[int] = []
    for part in parts:
        if not (part.isascii() and part.isdigit()):
            raise UsageError(
                f"--users: {part!r} in {text!r} is not a whole number; give user counts like 1,3,20"
            )
        count = int(part)
        if not 1 <= count <= MAX_USERS:
            raise UsageError(
                f"--users: {count} in {text!r} is out of range; "
                f"each step needs 1 to {MAX_USERS} users"
            )
        counts.append(count)
    if len(counts) > MAX_STEPS:
        raise UsageError(f"--users: {len(counts)} steps; at most {MAX_STEPS} are allowed")
    return tuple(counts)


def _finite(flag: str, value: float, low: float, high: float, what: str) -> float:
    if not math.isfinite(value) or not low <= value <= high:
        raise UsageError(f"{flag}: {value:g} is out of range; {what}")
    return float(value)


@dataclass(frozen=True)
class RunPlan:
    """Steps of `users[i]` users, each `step_time` seconds long, then `cooldown` seconds idle.

    `warmup` is the fraction of each step left out of rates, percentiles and utilizations
    (the steady window starts at start + warmup x length); counts cover the whole step.
    `spawn_rate` is users started (or stopped) per second; None means all at once.
    """

    users: tuple[int, ...]
    step_time: float
    warmup: float = 0.2
    spawn_rate: float | None = None
    cooldown: float = 15.0

    @classmethod
    def build(
        cls,
        users: str,
        step_time: float,
        warmup: float = 0.2,
        spawn_rate: float | None = None,
        cooldown: float = 15.0,
    ) -> RunPlan:
        """Parse and check every value; UsageError names the flag that is wrong."""
        return cls(
            users=parse_users(users),
            step_time=_finite(
                "--step-time", step_time, MIN_STEP_TIME, 7 * 86400, "give seconds, at least 1"
            ),
            warmup=_finite("--warmup", warmup, 0.0, 0.95, "give a fraction from 0 to 0.95"),
            spawn_rate=None
            if spawn_rate is None
            else _finite("--spawn-rate", spawn_rate, 0.01, 10_000, "give users per second > 0"),
            cooldown=_finite("--cooldown", cooldown, 0.0, 86400, "give seconds, 0 or more"),
        )

    @property
    def duration(self) -> float:
        """Seconds of load, cooldown excluded."""
        return len(self.users) * self.step_time

    @property
    def rate(self) -> float:
        """Users per second handed to Locust at every step change."""
        if self.spawn_rate is not None:
            return self.spawn_rate
        return float(min(max(self.users), MAX_DEFAULT_SPAWN_RATE))

    def step_at(self, elapsed: float) -> int | None:
        """Index of the step running `elapsed` seconds after the load started; None after it."""
        if elapsed < 0:
            return 0
        index = int(elapsed // self.step_time)
        return index if index < len(self.users) else None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready view, for the manifest."""
        return {
            "users": list(self.users),
            "step_time": self.step_time,
            "warmup": self.warmup,
            "spawn_rate": self.spawn_rate,
            "cooldown": self.cooldown,
        }
