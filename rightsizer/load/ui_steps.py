"""Steps of a load the user drives from Locust's web UI (`rightsizer run --web` without --users).

One step per user count: a step begins when the UI asks for a user count different from the
current one (Start, or Edit while running) and ends when the next begins or the test stops, as
the seed clicked 1, 3 and 20 users in turn. A StepLog, as the step shape
(rightsizer.load.shape.StepShape) is, so the runner and the per-step statistics treat both alike.
Pure: no Locust import; the runner gives `stop`, which stops Locust's users.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from rightsizer.load.plan import RunPlan
from rightsizer.load.steplog import StepLog

# A UI step's length is unknown while it runs; the generator-bound check (BoundWatch) treats
# its first seconds as ramp-up, as a shape step's warmup.
STEADY_AFTER = 10.0


def ui_plan(warmup: float, spawn_rate: float | None, cooldown: float) -> RunPlan:
    """The plan of a UI-driven run: no steps of its own (the UI sets them), step_time 0;
    every value checked as `RunPlan.build` checks it."""
    checked = RunPlan.build("1", 1.0, warmup, spawn_rate, cooldown)
    return dataclasses.replace(checked, users=(), step_time=0.0)


class UiSteps(StepLog):
    """The steps the UI set; `begin(users)` on each accepted change, `finish()` to end."""

    def __init__(self, stop: Callable[[], None], clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self._stop = stop

    def steady_after(self) -> float:
        """A UI step's length is unknown while it runs: its first STEADY_AFTER seconds."""
        return STEADY_AFTER

    def begin(self, users: int) -> bool:
        """The UI asked for `users`: a new step unless that is the current count or the load
        is over. Whether a step began."""
        if self.ended_at is not None or (self.step_users and self.step_users[-1] == users):
            return False
        self.begin_step(self._clock(), len(self.step_users), users)
        return True

    def finish(self) -> None:
        """The run ends the load (Ctrl-C, an alarm's stop-run): stop Locust's users once."""
        if self.end():
            self._stop()

    def stopped(self) -> None:
        """Locust is stopping on its own (Stop in the UI, its run-time limit): the load ends."""
        self.end()
