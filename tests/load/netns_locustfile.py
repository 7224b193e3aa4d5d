"""GET /hit, 10 times a second per user, for the tests across hosts (test_remote_workers.py).

With BURN_MS in a worker's environment, each task first keeps that worker's core busy for
BURN_MS milliseconds, and users do not wait between tasks: the same locustfile (the same
digest), a generator-bound worker.
"""

from __future__ import annotations

import os
import time

from locust import FastHttpUser, constant, task

BURN_S = float(os.environ.get("BURN_MS", "0")) / 1000


class Hitter(FastHttpUser):
    wait_time = constant(0 if BURN_S else 0.1)

    @task
    def hit(self) -> None:
        until = time.process_time() + BURN_S
        while time.process_time() < until:
            pass
        self.client.get("/hit")
