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
from rightsizer.load.arrival import parse_rates, pool_size
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
# `--arrival-rate auto` raises the rate by at most this factor a step (the bracket's width).
RATE_GROWTH = 1.5


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


def given_rates(
    rates: str | None,
    users: str | None,
    step_time: float | None,
    spawn_rate: float | None,
    pool: int | None = None,
) -> tuple[str, float] | None:
    """`--arrival-rate` with its `--step-time`, or None without it; UsageError when it comes
    with --users or --spawn-rate (the pool starts at once) or without --step-time, or when
    --arrival-users comes without it."""
    if rates is None:
        if pool is not None:
            raise UsageError("--arrival-users: only with --arrival-rate; add it or drop this")
        return None
    if users is not None:
        raise UsageError("--arrival-rate: not with --users; give one: rates or users per step")
    if spawn_rate is not None:
        raise UsageError("--spawn-rate: not with --arrival-rate (its users wait for their slots)")
    if step_time is None:
        raise UsageError("--step-time: required; e.g. --arrival-rate 50,100,200 --step-time 60")
    return rates, step_time


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
    With `rates` (`--arrival-rate`), step i starts `rates[i]` user iterations a second whatever
    the service does (rightsizer.load.arrival), carried by a pool of `users[i]` users.
    With `search` and `searches_rates` (`--arrival-rate auto`) the search chooses each step's
    rate instead of its users (whole iterations a second), carried by `pool_for(rate)` users.
    """

    users: tuple[int, ...]
    step_time: float
    warmup: float = 0.2
    spawn_rate: float | None = None
    cooldown: float = 15.0
    search: SearchLimits | None = None
    rates: tuple[float, ...] = ()
    searches_rates: bool = False
    pool: int | None = None  # --arrival-users; None: arrival.pool_size of each step's rate

    @property
    def is_open(self) -> bool:
        """An open-model run (`--arrival-rate`, given rates or searched)."""
        return bool(self.rates) or self.searches_rates

    def pool_for(self, rate: float) -> int:
        """Users that carry an open-model step of `rate` iterations a second."""
        return self.pool or min(MAX_USERS, pool_size(rate))

    @classmethod
    def open_model(
        cls,
        rates: str,
        step_time: float,
        warmup: float = 0.2,
        cooldown: float = 15.0,
        pool: int | None = None,
        *,
        search: SearchLimits | None = None,
    ) -> RunPlan:
        """`--arrival-rate 50,100,200`: steps of a fixed rate of iterations; each step's pool
        of users is `pool` (`--arrival-users`) or `arrival.pool_size(rate)`, all started at
        once (they wait for slots). `--arrival-rate auto` searches the rates with `search`
        (default: one task's limits), its `first_users` read as the first rate. That search
        only climbs, by RATE_GROWTH at most, and ends at the first rate past the limit: an
        open load past the limit leaves a queue in the target, which a lower rate tried after
        it would inherit (a closed load's queue is bounded by its users), so no step comes
        back down to narrow the bracket."""
        if pool is not None and not 1 <= pool <= MAX_USERS:
            raise UsageError(f"--arrival-users: {pool} is out of range; give 1 to {MAX_USERS}")
        if rates.strip().lower() == AUTO:
            plan = cls.build(AUTO, step_time, warmup, None, cooldown, search=search)
            assert plan.search is not None
            climb = dataclasses.replace(plan.search, growth=RATE_GROWTH, refine_steps=0)
            return dataclasses.replace(
                plan, search=climb, searches_rates=True, pool=pool, spawn_rate=MAX_SPAWN_RATE
            )
        parsed = parse_rates(rates)
        plan = cls.build("1", step_time, warmup, None, cooldown)
        plan = dataclasses.replace(plan, rates=parsed, pool=pool)
        pools = tuple(plan.pool_for(rate) for rate in parsed)
        return dataclasses.replace(
            plan, users=pools, spawn_rate=min(MAX_SPAWN_RATE, float(max(pools)))
        )

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
        document: dict[str, object] = {
            "users": AUTO if self.search is not None else list(self.users),
            "search": None if self.search is None else dataclasses.asdict(self.search),
            "step_time": self.step_time,
            "warmup": self.warmup,
            "spawn_rate": self.spawn_rate,
            "cooldown": self.cooldown,
        }
        if self.rates:
            document["arrival_rates"] = list(self.rates)
        elif self.searches_rates:
            document["arrival_rates"] = AUTO
        return document
