"""What ECS publishes while a service runs, sent to the emulator with PutMetricData: a thread
that puts each task's CPU and memory every `every` seconds, and remembers what it sent."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import Any


class EcsAgent:
    """Publishes AWS/ECS CPUUtilization and MemoryUtilization of `tasks` tasks (high
    resolution) until stopped; `sent` holds (epoch seconds, metric, value)."""

    def __init__(self, client: Any, cluster: str, service: str, every: float = 0.2) -> None:
        self.client = client
        self.dims = [
            {"Name": "ClusterName", "Value": cluster},
            {"Name": "ServiceName", "Value": service},
        ]
        self.every = every
        self.sent: list[tuple[float, str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._publish, daemon=True)

    def _publish(self) -> None:
        tick = 0
        while not self._stop.is_set():
            now = time.time()
            points = [("CPUUtilization", 20.0 + tick % 7 + 10 * task) for task in range(2)]
            points += [("MemoryUtilization", 45.0 + task) for task in range(2)]
            self.client.put_metric_data(
                Namespace="AWS/ECS",
                MetricData=[
                    {
                        "MetricName": name,
                        "Dimensions": self.dims,
                        "Timestamp": datetime.fromtimestamp(now, UTC),
                        "Value": value,
                        "StorageResolution": 1,
                    }
                    for name, value in points
                ],
            )
            self.sent += [(now, name, value) for name, value in points]
            tick += 1
            self._stop.wait(self.every)

    def values(self, metric: str, start: float, end: float) -> list[float]:
        """What was sent of `metric` stamped within [start, end)."""
        return [v for t, name, v in self.sent if name == metric and start <= t < end]

    def __enter__(self) -> EcsAgent:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
