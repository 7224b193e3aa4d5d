"""An open-model load: user iterations start at a fixed rate, whatever the service does.

    schedule = ArrivalSchedule()
    schedule.begin_step(now, rate=50.0)   # slots at now, now + 0.02, now + 0.04, ...
    slot = schedule.claim()               # a free user takes the next slot (maybe a past one)
    schedule.holds(slot)                  # ... waits for it: still due (no new step since)?
    schedule.started(slot.at, at)         # ... and starts its iteration `at` (>= slot.at)

`--arrival-rate 50,100,200` gives each step a rate of iterations per second. A pool of users
(`pool_size`) carries them: each free user takes the next slot in order and waits for it. When
every user is busy, slots fall due with nobody to take them; the next free user takes the
oldest and starts it late, so lateness shows in the figures instead of the load quietly
slowing with the service (coordinated omission). Slots of a step that were still untaken when
the next step (or the end) came are dropped, and so are slots taken but not yet due then (their
users take the new step's): `Iteration`s record what started.

Pure: no Locust, no clock of its own (rightsizer.load.open_users drives it with gevent).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from rightsizer.errors import UsageError

MAX_RATE = 100_000.0
MAX_STEPS = 1000
# Users in the pool per iteration per second: enough for iterations that take POOL_SECONDS.
POOL_SECONDS = 2.0
MIN_POOL = 4
# An iteration that starts this much after its slot is late (gevent's own wake-up is ~1 ms).
LATE_SECONDS = 0.010


def parse_rates(text: str) -> tuple[float, ...]:
    """`"50,100,200"` -> (50.0, 100.0, 200.0): iterations per second, one per step."""
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not part for part in parts):
        raise UsageError(f"--arrival-rate: {text!r} has an empty step; give rates like 50,100,200")
    rates: list[float] = []
    for part in parts:
        try:
            rate = float(part)
        except ValueError:
            raise UsageError(
                f"--arrival-rate: {part!r} in {text!r} is not a number; give rates like 50,100,200"
            ) from None
        if not math.isfinite(rate) or not 0 < rate <= MAX_RATE:
            raise UsageError(
                f"--arrival-rate: {part} in {text!r} is out of range; each step needs more than "
                f"0 and at most {MAX_RATE:g} iterations a second"
            )
        rates.append(rate)
    if len(rates) > MAX_STEPS:
        raise UsageError(f"--arrival-rate: {len(rates)} steps; at most {MAX_STEPS} are allowed")
    return tuple(rates)


def pool_size(rate: float) -> int:
    """Users that carry `rate` iterations a second when each takes up to POOL_SECONDS."""
    return max(MIN_POOL, math.ceil(rate * POOL_SECONDS))


class Slot(NamedTuple):
    """When an iteration is due (epoch seconds), in which of the schedule's steps."""

    at: float
    generation: int


class Iteration(NamedTuple):
    """One started iteration: when it was due (`intended`), when it began and ended (epoch s;
    `end` None while it runs or when its user was stopped in it)."""

    intended: float
    start: float
    end: float | None

    @property
    def late(self) -> float:
        """Seconds it started after it was due."""
        return max(0.0, self.start - self.intended)


class ArrivalSchedule:
    """The slots of the current step and the iterations started so far (see module doc)."""

    def __init__(self) -> None:
        self.iterations: list[Iteration] = []
        self._origin: float | None = None
        self._interval = math.inf
        self._next = 0  # index of the next slot to hand out, counted from _origin
        self._generation = 0
        self._stopped = False

    def begin_step(self, now: float, rate: float) -> None:
        """From `now` on, slots every 1/`rate` seconds; the last step's untaken ones drop."""
        self._origin, self._interval, self._next = now, 1.0 / rate, 0
        self._generation += 1

    def stop(self) -> None:
        """No more slots: untaken ones are dropped; users waiting for one are told so."""
        self._stopped = True

    def claim(self) -> Slot | None:
        """The next slot, taken by the caller; None before the first step or after the end."""
        if self._origin is None or self._stopped:
            return None
        slot = Slot(self._origin + self._next * self._interval, self._generation)
        self._next += 1
        return slot

    def holds(self, slot: Slot) -> bool:
        """Whether `slot` is still to be started: a step that began since dropped it unless it
        was due before that step's start."""
        if self._stopped or self._origin is None:
            return False
        return slot.generation == self._generation or slot.at < self._origin

    def started(self, slot: float, at: float) -> int:
        """An iteration due at `slot` began at `at`; its number for `ended`."""
        self.iterations.append(Iteration(slot, max(at, slot), None))
        return len(self.iterations) - 1

    def ended(self, number: int, at: float) -> None:
        """Iteration `number` ended at `at`."""
        iteration = self.iterations[number]
        self.iterations[number] = iteration._replace(end=max(at, iteration.start))
