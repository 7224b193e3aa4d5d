"""The steps as a Locust `LoadTestShape`: Locust asks `tick()` once a second for the user count.

Imports Locust: use only in a process that runs the load (see rightsizer.load.runner).
A step begins at the first tick that falls into it; that moment (epoch seconds) is what the
step statistics use, so a step's window is when its users count was really asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from locust import LoadTestShape

from rightsizer.load.plan import RunPlan

Decide = Callable[[int], int | None]


def fixed_steps(plan: RunPlan) -> Decide:
    """The plan's own list: `plan.users[i]` for step i, then stop."""
    return lambda index: plan.users[index] if index < len(plan.users) else None


class StepShape(LoadTestShape):
    """`decide(i)` users during step i, asked once when step i begins (by default the plan's
    list); None (stop) when it has no more steps or on `finish()`."""

    def __init__(
        self, plan: RunPlan, decide: Decide | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.plan = plan
        self._decide = decide or fixed_steps(plan)
        self._clock = clock
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.step: int | None = None
        self.step_starts: list[float] = []
        self.step_users: list[int] = []

    def finish(self) -> None:
        """End the load at the next tick (the run was interrupted or an alarm asked to stop)."""
        if self.ended_at is None:
            self.ended_at = self._clock()

    def steady(self, now: float) -> bool:
        """Whether `now` falls in the current step's steady window."""
        if self.step is None or self.ended_at is not None:
            return False
        start = self.step_starts[self.step]
        return now >= start + self.plan.warmup * self.plan.step_time

    def tick(self) -> tuple[int, float] | None:
        now = self._clock()
        if self.started_at is None:
            self.started_at = now
        index = self.plan.step_at(now - self.started_at)
        if index is None or self.ended_at is not None:
            self.finish()
            return None
        if index != self.step:
            users = self._decide(index)
            if users is None:
                self.finish()
                return None
            self.step = index
            self.step_starts.append(now)
            self.step_users.append(users)
        before = self.step_users[-2] if len(self.step_users) > 1 else 0
        return self.step_users[-1], self.plan.rate_between(before, self.step_users[-1])
