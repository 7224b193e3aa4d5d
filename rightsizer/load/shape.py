"""The steps as a Locust `LoadTestShape`: Locust asks `tick()` once a second for the user count.

Imports Locust: use only in a process that runs the load (see rightsizer.load.locust_driver).
A step begins at the first tick that falls into it; that moment (epoch seconds) is what the
step statistics use, so a step's window is when its users count was really asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from locust import LoadTestShape

from rightsizer.load.plan import RunPlan
from rightsizer.load.steplog import StepLog

Decide = Callable[[int], int | None]
OnStep = Callable[[int | None, float], None]


def fixed_steps(plan: RunPlan) -> Decide:
    """The plan's own list: `plan.users[i]` for step i, then stop."""
    return lambda index: plan.users[index] if index < len(plan.users) else None


class StepShape(LoadTestShape, StepLog):
    """`decide(i)` users during step i, asked once when step i begins (by default the plan's
    list); None (stop) when it has no more steps or on `finish()`. `on_step(i, now)` is told
    when step i begins (an open-model load starts its slots then), `on_step(None, now)` when
    the load ends."""

    def __init__(
        self,
        plan: RunPlan,
        decide: Decide | None = None,
        clock: Callable[[], float] = time.time,
        on_step: OnStep | None = None,
    ) -> None:
        LoadTestShape.__init__(self)  # type: ignore[no-untyped-call]
        StepLog.__init__(self, clock)
        self.plan = plan
        self._decide = decide or fixed_steps(plan)
        self._on_step = on_step

    def steady_after(self) -> float:
        """The plan's warmup share of a step."""
        return self.plan.warmup * self.plan.step_time

    def finish(self) -> None:
        """End the load at the next tick (the run was interrupted or an alarm asked to stop)."""
        if self.end() and self._on_step is not None and self.ended_at is not None:
            self._on_step(None, self.ended_at)

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
            self.begin_step(now, index, users)
            if self._on_step is not None:
                self._on_step(index, now)
        before = self.step_users[-2] if len(self.step_users) > 1 else 0
        return self.step_users[-1], self.plan.rate_between(before, self.step_users[-1])
