"""The fault schedule of a run: each fault done at its time on the run's clock, undone at its end
and on every way out, with what HAProxy said of the servers meanwhile.

    schedule = FaultSchedule(faults, inject=lambda f: inject(f, fleet), lb_rows=api.show_stat)
    schedule.start()          # time 0: the load's start; a thread ticks every `interval`
    ...                       # the load
    runs = schedule.stop()    # undoes what is still on; one FaultRun per fault

`tick(now)` does what is due at `now`: tests drive it with their own clock, without the thread.
A fault that cannot be done is kept with its error and no start: never reported as done.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rightsizer.errors import RightsizerError
from rightsizer.fault.actions import Applied
from rightsizer.fault.fault import Fault

log = logging.getLogger("rightsizer.load")
TICK = 0.1


@dataclass(frozen=True)
class ServerChange:
    """HAProxy's `status` of a server (UP, DRAIN, DOWN, MAINT, "DOWN 1/2"...) from `time` on."""

    time: float
    server: str
    status: str

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "server": self.server, "status": self.status}

    @classmethod
    def from_json(cls, raw: Any) -> ServerChange:
        return cls(float(raw["time"]), str(raw["server"]), str(raw["status"]))


@dataclass
class FaultRun:
    """One fault as it went: real epoch start and end (None: not done / not ended)."""

    fault: Fault
    started: float | None = None
    ended: float | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    applied: Applied | None = None


class FaultSchedule:
    """Faults at their times from `start()`; `clock` gives epoch seconds."""

    def __init__(
        self,
        faults: Sequence[Fault],
        inject: Callable[[Fault], Applied],
        *,
        lb_rows: Callable[[], list[dict[str, str]]] | None = None,
        clock: Callable[[], float] = time.time,
        interval: float = TICK,
        note: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.runs = [FaultRun(fault) for fault in sorted(faults, key=lambda f: f.start)]
        self.changes: list[ServerChange] = []
        self.zero: float | None = None
        self._inject = inject
        self._lb_rows = lb_rows
        self._clock = clock
        self._interval = interval
        self._note = note
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_status: dict[str, str] = {}

    def start(self, thread: bool = True) -> None:
        """Time zero is now; with `thread`, a daemon thread ticks until `stop()`."""
        self.zero = self._clock()
        atexit.register(self.undo_all)  # an interpreter that ends early still undoes
        self.tick(self.zero)
        if thread and self.runs:
            self._thread = threading.Thread(
                target=self._loop, name="rightsizer-faults", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.tick(self._clock())
            except Exception as exc:  # noqa: BLE001 (a poll that failed: said, the loop goes on)
                log.warning("fault schedule: %s", exc)

    def tick(self, now: float) -> None:
        """Do and undo what is due at `now`; read HAProxy's server states."""
        assert self.zero is not None, "start() first"
        with self._lock:
            if self._stop.is_set():
                return
            for run in self.runs:
                self._advance(run, now)
                self._follow(run)
        self._poll_lb(self._clock())  # after the actions: a change they caused is not earlier

    def _advance(self, run: FaultRun, now: float) -> None:
        assert self.zero is not None
        fault, elapsed = run.fault, now - self.zero
        if run.started is None and run.error is None and elapsed >= fault.start:
            try:
                run.applied = self._inject(fault)
            except (RightsizerError, OSError) as exc:
                run.error = str(exc)
                self._note(f"fault {fault.text} not done: {exc}")
                return
            run.started, run.facts = self._clock(), dict(run.applied.facts)
            self._note(f"fault {fault.text}: started")
            if not fault.kind.lasts:
                run.ended = run.started
        if run.started is not None and run.ended is None and elapsed >= fault.end:
            self._end(run)

    def _follow(self, run: FaultRun) -> None:
        """What happened after a fault that the fleet answers by itself (a killed task
        replaced): asked each tick until it is known."""
        if run.applied is None or run.applied.follow is None:
            return
        try:
            found = run.applied.follow()
        except (RightsizerError, OSError):
            return
        if found is not None:
            run.facts.update(found)
            run.applied.follow = None

    def _end(self, run: FaultRun) -> None:
        assert run.applied is not None
        try:
            run.applied.undo()
            run.facts.update(run.applied.facts)  # what the undoing learned (CPU stolen...)
        except (RightsizerError, OSError) as exc:
            run.error = f"not undone: {exc}"
            self._note(f"fault {run.fault.text} NOT undone: {exc}")
        run.ended = self._clock()
        self._note(f"fault {run.fault.text}: ended")

    def _poll_lb(self, now: float) -> None:
        if self._lb_rows is None:
            return
        try:
            rows = self._lb_rows()
        except RightsizerError:
            return
        for row in rows:
            server, status = row.get("svname", ""), row.get("status", "")
            if server in ("FRONTEND", "BACKEND") or not server:
                continue
            if self._last_status.get(server) != status:
                self._last_status[server] = status
                self.changes.append(ServerChange(now, server, status))

    def undo_all(self) -> None:
        """End every fault still on (thaw, ready). Safe from any thread, and twice."""
        with self._lock:
            for run in self.runs:
                if run.started is not None and run.ended is None:
                    self._end(run)

    def halt(self) -> None:
        """The load stops early: start no more faults, end those that are on, now."""
        self._stop.set()
        self.undo_all()

    def stop(self) -> list[FaultRun]:
        """Stop the thread, undo what is on, forget the atexit hook; the runs."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.undo_all()
        atexit.unregister(self.undo_all)
        for run in self.runs:
            if run.started is None and run.error is None:
                run.error = "the load ended before its start"
        return self.runs
