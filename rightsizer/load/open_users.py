"""The locustfile's users, paced by an `ArrivalSchedule`: the open-model load (`--arrival-rate`).

Imports gevent and Locust: use only in the process that runs the load (the LocalRunner's).

Each User class becomes a subclass whose `wait_time` takes the next slot and sleeps until it
(the sleep is Locust's "waiting" state, so a stop ends it at once), and whose `on_start` does
the same after the class's own `on_start` (so a login is not part of the paced load). An
iteration is one task between two waits; its requests are recorded with the start they would
have had had the iteration begun on time (`intended_start`). A TaskSet with a `wait_time` of
its own is not paced: give the wait to the User class.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
from locust.exception import StopUser
from locust.user.task import LOCUST_STATE_RUNNING, LOCUST_STATE_STOPPING, LOCUST_STATE_WAITING

from rightsizer.load.arrival import ArrivalSchedule

Clock = Callable[[], float]


class OpenUsers:
    """Wraps User classes so that their iterations start on the schedule's slots."""

    def __init__(self, schedule: ArrivalSchedule, clock: Clock = time.time) -> None:
        self.schedule = schedule
        self._clock = clock
        self._current: dict[Any, tuple[int, float]] = {}  # greenlet -> (iteration, lateness)
        self._changed = gevent.event.Event()  # set when a step begins: sleepers re-check

    def begin_step(self, now: float, rate: float) -> None:
        """A step begins: slots at `rate` from `now`; users waiting for a dropped slot wake."""
        self.schedule.begin_step(now, rate)
        changed, self._changed = self._changed, gevent.event.Event()
        changed.set()

    def wrap(self, user_class: type[Any]) -> type[Any]:
        """A subclass of `user_class` paced by the schedule."""
        opened = self
        original_on_start = user_class.on_start

        def wait_time(_user: Any) -> float:
            opened.pace()
            return 0.0

        def on_start(user: Any) -> None:
            original_on_start(user)
            # Waiting for the first slot is waiting, as in `wait_time`: a stop ends it at once.
            user._state = LOCUST_STATE_WAITING
            opened.pace()
            if user._state == LOCUST_STATE_STOPPING:
                raise StopUser
            user._state = LOCUST_STATE_RUNNING

        return type(
            user_class.__name__,
            (user_class,),
            {"wait_time": wait_time, "on_start": on_start, "__module__": user_class.__module__},
        )

    def pace(self) -> None:
        """End this user's iteration, take the next slot, sleep until it and begin the next;
        StopUser when the schedule has ended."""
        me = gevent.getcurrent()
        previous = self._current.pop(me, None)
        if previous is not None:
            self.schedule.ended(previous[0], self._clock())
        while True:
            slot = self.schedule.claim()
            if slot is None:
                raise StopUser
            self._changed.wait(max(0.0, slot.at - self._clock()))
            if self.schedule.holds(slot):
                break
        start = self._clock()
        self._current[me] = (self.schedule.started(slot.at, start), max(0.0, start - slot.at))

    def intended(self, start: float) -> float | None:
        """The start a request that began at `start` in this greenlet would have had on time
        (None outside a paced iteration: on_start, on_stop)."""
        current = self._current.get(gevent.getcurrent())
        return None if current is None else start - current[1]
