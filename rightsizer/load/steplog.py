"""Which steps a load has had so far: when each began and with how many users, when the load
began and ended. The plan's step shape (rightsizer.load.shape) and the steps a user sets in the
web UI (rightsizer.load.ui_steps) both keep it, so the runner and the per-step statistics treat
them alike. Pure: no Locust import.
"""

from __future__ import annotations

from collections.abc import Callable


class StepLog:
    """Steps begun so far (`step` is the current one's index) and the load's start and end;
    `steady_after()`, given by each kind of steps: seconds into a step before its steady part."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.step: int | None = None
        self.step_starts: list[float] = []
        self.step_users: list[int] = []

    def steady_after(self) -> float:
        raise NotImplementedError

    def begin_step(self, now: float, index: int, users: int) -> None:
        """Step `index` begins at `now` with `users` users."""
        if self.started_at is None:
            self.started_at = now
        self.step = index
        self.step_starts.append(now)
        self.step_users.append(users)

    def end(self) -> bool:
        """The load ends now, once; whether it had not ended before."""
        if self.ended_at is not None:
            return False
        self.ended_at = self._clock()
        return True

    def steady(self, now: float) -> bool:
        """Whether `now` falls in the current step's steady part (never after the end)."""
        if self.step is None or self.ended_at is not None:
            return False
        return now >= self.step_starts[-1] + self.steady_after()
