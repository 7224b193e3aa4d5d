"""A closed workload with a fixed think time Z for demand_app.py: GET /work, think Z, repeat.

Z is `DEMAND_THINK_S` in the environment (default 1 s). `constant(Z)` rather than `between`:
the operational laws need only the mean think time, but a fixed one keeps each step's figures
steady sooner.
"""

from __future__ import annotations

import os

from locust import HttpUser, constant, task

THINK_S = float(os.environ.get("DEMAND_THINK_S", "1"))


class Client(HttpUser):
    wait_time = constant(THINK_S)

    @task
    def work(self) -> None:
        self.client.get("/work")
