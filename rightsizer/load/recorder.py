"""Listeners on Locust's events that keep every request exactly (see `records`).

- In one process (`record_locally`): each `request` event becomes a record in the run's log.
- On a worker (`ship_from_worker`): records are buffered and leave with every report to the
  master (`report_to_master`, Locust's supported channel); when the worker's test stops (its
  users finished their last requests), a last report leaves at once (Locust's own figures with
  it), then a `rightsizer_drained` message, so the master has every request before its own
  stop returns.
- On the master (`MasterCollector`): `worker_report` and `rightsizer_drained` feed the log.

Nothing here imports Locust: the listeners only need the environment's `events` and `runner`,
so the worker plugin and the master share this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psutil

from rightsizer.load.records import RecordLog, from_event, from_row

REPORT_KEY = "rightsizer_requests"
CPU_KEY = "rightsizer_cpu_percent"
DRAINED_MESSAGE = "rightsizer_drained"

Clock = Callable[[], float]


def record_locally(events: Any, log: RecordLog, clock: Clock = time.time) -> None:
    """Add every request this process makes to `log`."""
    add = log.records.append

    def on_request(
        *,
        request_type: str,
        name: str,
        response_time: float | None,
        response_length: int | None,
        exception: BaseException | None = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        add(
            from_event(
                request_type=request_type,
                name=name,
                response_time=response_time,
                response_length=response_length,
                exception=exception,
                start_time=start_time,
                now=clock(),
            )
        )

    events.request.add_listener(on_request)


class _CpuMeter:
    """This process's CPU in percent of one core since the previous reading."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._last = self._reading()

    def _reading(self) -> tuple[float, float]:
        times = self._process.cpu_times()
        return time.monotonic(), times.user + times.system

    def percent(self) -> float | None:
        (then, used_then), (now, used_now) = self._last, self._reading()
        self._last = (now, used_now)
        return 100.0 * (used_now - used_then) / (now - then) if now > then else None


def ship_from_worker(environment: Any) -> None:
    """Install the worker side: buffer records, ship them with reports and when drained."""
    log = RecordLog()
    record_locally(environment.events, log)
    cursor = 0
    meter = _CpuMeter()

    def take_rows() -> list[list[Any]]:
        nonlocal cursor
        fresh, cursor = log.since(cursor)
        # Shipped records are not needed here any more; drop them to keep the worker small.
        del log.records[:cursor]
        cursor = 0
        return [record.as_row() for record in fresh]

    def on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
        data[REPORT_KEY] = take_rows()
        data[CPU_KEY] = meter.percent()

    def on_test_stop(environment: Any, **_: Any) -> None:
        # A Locust worker reports its statistics every few seconds, not when it stops: send
        # the final report now, on the same ordered connection and ahead of the drained
        # message, so the master holds Locust's complete figures once every worker drained.
        runner = environment.runner
        report: dict[str, Any] = {}
        environment.events.report_to_master.fire(client_id=runner.client_id, data=report)
        runner.send_message("stats", report)
        runner.send_message(DRAINED_MESSAGE, {REPORT_KEY: take_rows()})

    environment.events.report_to_master.add_listener(on_report_to_master)
    environment.events.test_stop.add_listener(on_test_stop)


class MasterCollector:
    """The master side: every worker's records into `log`; its CPU into `on_cpu`."""

    def __init__(
        self,
        environment: Any,
        log: RecordLog,
        on_cpu: Callable[[str, float], None] | None = None,
    ) -> None:
        self.log = log
        self.on_cpu = on_cpu
        self.drained: set[str] = set()
        self.foreign: set[str] = set()  # workers that report no records (plain `locust --worker`)
        self.rejected = 0
        environment.events.worker_report.add_listener(self._on_report)
        environment.runner.register_message(DRAINED_MESSAGE, self._on_drained)

    def _take(self, client_id: str, data: Any) -> None:
        rows = data.get(REPORT_KEY) if isinstance(data, dict) else None
        if rows is None:
            self.foreign.add(client_id)
            return
        records = [from_row(row) for row in rows if isinstance(row, list | tuple)]
        kept = [record for record in records if record is not None]
        self.rejected += len(rows) - len(kept)
        self.log.extend(kept)

    def _on_report(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        self._take(client_id, data)
        cpu = data.get(CPU_KEY)
        if self.on_cpu is not None and isinstance(cpu, int | float):
            self.on_cpu(client_id, float(cpu))

    def _on_drained(self, environment: Any, msg: Any, **_: Any) -> None:
        self._take(msg.node_id, msg.data)
        self.drained.add(msg.node_id)
        if self.on_cpu is not None:
            self.on_cpu(msg.node_id, 0.0)  # its users are gone; its last busy figure is stale
