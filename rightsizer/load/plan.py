"""What a step-load run does, decided before anything starts: a frozen `RunPlan`.

    plan = RunPlan.build(users="1,3,20", step_time=60, warmup=0.2)
    plan.step_at(75.0)   # -> 1: the second step (3 users) runs from 60 s to 120 s
    plan.step_at(180.0)  # -> None: the load is over

    RunPlan.build(users="auto", step_time=20, search=SearchLimits(tasks=4))
    # -> steps chosen during the run by rightsizer.load.search until the fleet's limit is found

Bad values raise UsageError naming the flag, so the CLI prints one line and exits 2;
`given_steps` checks that the flags give steps (--users with --step-time) or leave them to the
web UI (--web without either).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from rightsizer.errors import UsageError
from rightsizer.load.search import SearchLimits

AUTO = "auto"

MAX_STEPS = 1000
MAX_USERS = 1_000_000
MIN_SPAWN_RATE = 0.01
MAX_SPAWN_RATE = 10_000.0
MIN_STEP_TIME = 1.0  # Locust asks the shape for the user count once a second
# Without --spawn-rate every step's new users start at once; Locust warns above 100 a second.
MAX_DEFAULT_SPAWN_RATE = 100.0
# A search jumps by hundreds of users: their start is spread over this share of the step (at
# most SEARCH_SPREAD_MAX seconds), so a step's first requests do not arrive as one burst.
SEARCH_SPREAD = 0.25
SEARCH_SPREAD_MAX = 3.0


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


def given_steps(
    users: str | None, step_time: float | None, *, web: bool
) -> tuple[str, float] | None:
    """The `--users` and `--step-time` a run needs together, or None when the web UI sets the
    steps (`--web` without either); UsageError naming the flag that is missing or too many."""
    if users is None and web:
        if step_time is not None:
            raise UsageError("--step-time: without --users the web UI sets the steps; drop one")
        return None
    if users is None or step_time is None:
        missing = "--users" if users is None else "--step-time"
        raise UsageError(f"{missing}: required; e.g. --users 1,3,20 --step-time 60 (or --web)")
    return users, step_time


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
    With `search` set, `users` is empty: each step's users are chosen when it starts, from the
    steps measured before it, until the SLO breaks or CPU saturates (`--users auto`).
    """

    users: tuple[int, ...]
    step_time: float
    warmup: float = 0.2
    spawn_rate: float | None = None
    cooldown: float = 15.0
    search: SearchLimits | None = None

    @classmethod
    def build(
        cls,
        users: str,
        step_time: float,
        warmup: float = 0.2,
        spawn_rate: float | None = None,
        cooldown: float = 15.0,
        *,
        search: SearchLimits | None = None,
    ) -> RunPlan:
        """Parse and check every value; UsageError names the flag that is wrong.
        `users="auto"` searches for the limit, with `search` (default: one task's limits)."""
        auto = users.strip().lower() == AUTO
        return cls(
            users=() if auto else parse_users(users),
            step_time=_finite(
                "--step-time", step_time, MIN_STEP_TIME, 7 * 86400, "give seconds, at least 1"
            ),
            warmup=_finite("--warmup", warmup, 0.0, 0.95, "give a fraction from 0 to 0.95"),
            spawn_rate=None
            if spawn_rate is None
            else _finite(
                "--spawn-rate",
                spawn_rate,
                MIN_SPAWN_RATE,
                MAX_SPAWN_RATE,
                "give users per second > 0",
            ),
            cooldown=_finite("--cooldown", cooldown, 0.0, 86400, "give seconds, 0 or more"),
            search=(search or SearchLimits(tasks=1)) if auto else None,
        )

    @property
    def max_steps(self) -> int:
        """Steps the run may take: the list's length, or the search's budget."""
        return self.search.max_steps if self.search is not None else len(self.users)

    @property
    def duration(self) -> float:
        """Seconds of load at most, cooldown excluded."""
        return self.max_steps * self.step_time

    @property
    def rate(self) -> float:
        """Users per second handed to Locust at every step change."""
        if self.spawn_rate is not None:
            return self.spawn_rate
        return float(min(max(self.users, default=1), MAX_DEFAULT_SPAWN_RATE))

    def rate_between(self, before: int, users: int) -> float:
        """Users per second for a step change from `before` to `users` users."""
        if self.spawn_rate is not None or self.search is None:
            return self.rate
        spread = min(SEARCH_SPREAD_MAX, SEARCH_SPREAD * self.step_time)
        return max(1.0, abs(users - before) / spread)

    def step_at(self, elapsed: float) -> int | None:
        """Index of the step running `elapsed` seconds after the load started; None after it."""
        if elapsed < 0:
            return 0
        index = int(elapsed // self.step_time)
        return index if index < self.max_steps else None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready view, for the manifest."""
        return {
            "users": AUTO if self.search is not None else list(self.users),
            "search": None if self.search is None else dataclasses.asdict(self.search),
            "step_time": self.step_time,
            "warmup": self.warmup,
            "spawn_rate": self.spawn_rate,
            "cooldown": self.cooldown,
        }
