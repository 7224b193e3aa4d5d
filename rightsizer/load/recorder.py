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

from rightsizer.load.generator import ProcessMeter
from rightsizer.load.records import RecordLog, from_event, from_row

REPORT_KEY = "rightsizer_requests"
CPU_KEY = "rightsizer_cpu_percent"
BUSY_KEY = "rightsizer_busy_percent"  # on a core or waiting for one (load.generator)
DRAINED_MESSAGE = "rightsizer_drained"

Clock = Callable[[], float]


def record_locally(
    events: Any,
    log: RecordLog,
    clock: Clock = time.time,
    intended: Callable[[float], float | None] | None = None,
) -> None:
    """Add every request this process makes to `log`; `intended` gives each request's intended
    start (an open-model load, rightsizer.load.open_users)."""
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
                intended=intended,
            )
        )

    events.request.add_listener(on_request)


def ship_from_worker(environment: Any) -> None:
    """Install the worker side: buffer records, ship them with reports and when drained."""
    log = RecordLog()
    record_locally(environment.events, log)
    cursor = 0
    meter = ProcessMeter()

    def take_rows() -> list[list[Any]]:
        nonlocal cursor
        fresh, cursor = log.since(cursor)
        # Shipped records are not needed here any more; drop them to keep the worker small.
        del log.records[:cursor]
        cursor = 0
        return [record.as_row() for record in fresh]

    def on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
        data[REPORT_KEY] = take_rows()
        data[CPU_KEY], data[BUSY_KEY] = meter.percent()

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
    """The master side: every worker's records into `log`; its CPU and busy figures (see
    load.generator.ProcessMeter; busy None from a worker without them) into `on_cpu`; when each
    last reported (`last_report`, epoch seconds). With `admitted`, the records of a worker it
    does not admit (one the handshake refused) are left out and counted in `rejected`."""

    def __init__(
        self,
        environment: Any,
        log: RecordLog,
        on_cpu: Callable[[str, float, float | None], None] | None = None,
        admitted: Callable[[str], bool] | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.log = log
        self.on_cpu = on_cpu
        self.admitted = admitted
        self.clock = clock
        self.drained: set[str] = set()
        self.foreign: set[str] = set()  # workers that report no records (plain `locust --worker`)
        self.last_report: dict[str, float] = {}
        self.rejected = 0
        environment.events.worker_report.add_listener(self._on_report)
        environment.runner.register_message(DRAINED_MESSAGE, self._on_drained)

    def _take(self, client_id: str, data: Any) -> None:
        self.last_report[client_id] = self.clock()
        rows = data.get(REPORT_KEY) if isinstance(data, dict) else None
        if rows is not None and self.admitted is not None and not self.admitted(client_id):
            self.rejected += len(rows)
            return
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
        busy = data.get(BUSY_KEY)
        if self.on_cpu is not None and isinstance(cpu, int | float):
            self.on_cpu(
                client_id, float(cpu), float(busy) if isinstance(busy, int | float) else None
            )

    def _on_drained(self, environment: Any, msg: Any, **_: Any) -> None:
        self._take(msg.node_id, msg.data)
        self.drained.add(msg.node_id)
        if self.on_cpu is not None:
            self.on_cpu(msg.node_id, 0.0, None)  # its users are gone; its last figure is stale
