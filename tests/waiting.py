"""Waiting on a condition instead of sleeping: `poll_until(lambda: ..., 20, "what")`."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def poll_until(
    condition: Callable[[], object], timeout: float = 30.0, what: str = "", interval: float = 0.02
) -> float:
    """Call `condition` until it is true; fail naming `what` after `timeout` seconds (generous:
    a deadline for a broken test, not a figure). Returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout:g} s: {what or 'the condition'}")
        time.sleep(interval)
    return time.monotonic() - started
