"""Run the steps with Locust in this process: an Environment, the step shape, the recorder.

Imports Locust (which patches the process with gevent): import this module only where the load
runs. With `workers` > 0 (or `expect_workers` > 0) this process is a Locust master and the users
run in worker processes; otherwise a LocalRunner runs them here.

The run ends gracefully: the shape says stop, Locust stops spawning and lets every running task
finish (up to `drain_timeout` seconds), and those requests are recorded and counted in the last
step. A first Ctrl-C or SIGTERM ends the load this way; a second one cuts the drain short.
After the drain, `cooldown` seconds pass with no load while the fleet is still sampled, or
longer when the alarms need it to show the period after the load (`LoadHooks.cooldown_until`;
not after a Ctrl-C).

With `spec.web` Locust's web UI serves from the start of the load to the end of the cooldown
(rightsizer.web). Without steps in the plan (`spec.ui_driven`) there is no shape: the user sets
the users in the UI (each new count a step, rightsizer.load.ui_steps) and the load ends when the
test is stopped there (or on Ctrl-C). Stop in the UI during a run with steps ends it early.

With `--arrival-rate` (the plan's `rates`) the users are the locustfile's, paced by an
ArrivalSchedule (rightsizer.load.open_users): each step begins its slots when the shape begins
it, the end of the load ends them, and every request is recorded with its intended start.
It runs in this process only (RunRequest.check refuses workers). With `--arrival-rate auto`
the search chooses each step's rate from the steps before it (`_next_rate`), and the rates it
chose go to the outcome (`step_rates`) for steps.json.

Ticks fall half a second past each whole second: the second just ended is flushed at once
(LOCAL_SERIES_LAG has passed), and ticks keep clear of the fleet's sampler (on whole seconds)
and of the alarms' evaluations (0.3 s past a boundary). After each tick's write the runner
publishes its watermark (`LoadHooks.client_series_complete`), and math.inf once all is written.
"""

from __future__ import annotations

import gc
import logging
import math
import signal
import time
from collections.abc import Callable
from typing import Any

import gevent
import locust
import zmq
from locust.argument_parser import get_parser
from locust.env import Environment
from locust.exception import RPCError
from locust.rpc import Message
from locust.runners import STATE_MISSING, MasterRunner, Runner
from locust.stats import CSV_STATS_INTERVAL_SEC, PERCENTILES_TO_REPORT, StatsCSVFileWriter

from rightsizer.errors import UnavailableError, UsageError
from rightsizer.load.arrival import ArrivalSchedule
from rightsizer.load.client_series import MILLISECONDS, ClientSeries, gauges, process_gauges
from rightsizer.load.generator import BoundWatch, GeneratorMonitor
from rightsizer.load.handshake import HandshakeMaster, Identity
from rightsizer.load.logs import logging_to
from rightsizer.load.open_users import OpenUsers
from rightsizer.load.outcome import LoadOutcome
from rightsizer.load.plan import MAX_SPAWN_RATE, MAX_USERS, MIN_SPAWN_RATE
from rightsizer.load.progress import Progress, RecentRequests, Snapshot
from rightsizer.load.recorder import MasterCollector, record_locally
from rightsizer.load.records import RecordLog
from rightsizer.load.search import StepOutcome, UserSearch
from rightsizer.load.shape import StepShape
from rightsizer.load.spec import LoadHooks, LoadSpec
from rightsizer.load.step_stats import Loss, measure_steps
from rightsizer.load.ui_steps import UiSteps
from rightsizer.load.workers import LocalWorkers, master_bind_warning
from rightsizer.metrics.store import MetricStore
from rightsizer.stop import INTERRUPTED, STOPPED_IN_UI, Stop
from rightsizer.web.run_control import RunControl, UiLimits
from rightsizer.web.server import WebServer
from rightsizer.web.stats import Dashboard

WORKER_CONNECT_TIMEOUT = 60.0
HELLO_WAIT = 2.0  # seconds a connected worker has to say hello (rightsizer.load.handshake)
DRAIN_BACKSTOP = 3.0  # seconds past --drain-timeout before Locust itself kills the users
DRAINED_WAIT = 5.0
TICK = 1.0
TICK_PHASE = 0.5  # seconds past each whole second
# Workers report every 3 s (Locust's WORKER_REPORT_INTERVAL); their seconds settle later.
WORKER_SERIES_LAG = 4.0
LOCAL_SERIES_LAG = 0.25
WAITING_FOR_UI = "waiting: start the test in the web UI"


class LocustDriver:
    """One load: call `execute()` once."""

    def __init__(
        self, spec: LoadSpec, store: MetricStore, progress: Progress, hooks: LoadHooks
    ) -> None:
        self.spec = spec
        self.store = store
        self.progress = progress
        self.hooks = hooks
        self.log = RecordLog()
        self.outcome = LoadOutcome(self.log.records)
        self.search = UserSearch(spec.plan.search) if spec.plan.search is not None else None
        # --arrival-rate: the users take their iterations' starts from a schedule.
        self.arrival = ArrivalSchedule() if spec.plan.is_open else None
        self.step_rates: list[float] = []  # --arrival-rate auto: the rates the search chose
        self.open_users = None if self.arrival is None else OpenUsers(self.arrival)
        self.shape: StepShape | UiSteps
        if spec.ui_driven:
            self.shape = UiSteps(stop=lambda: gevent.spawn(self.runner.stop))
        else:
            self.shape = StepShape(
                spec.plan,
                self._decide(),
                on_step=self._arrival_step if self.arrival is not None else None,
            )
        self.web: WebServer | None = None
        self.recent = RecentRequests()
        self.bound = BoundWatch()
        self.monitor = GeneratorMonitor()
        self.series = ClientSeries(time.time(), self._lag())
        self.cursor = 0
        self.failures = 0
        self.signals = 0
        self.workers: LocalWorkers | None = None
        self.collector: MasterCollector | None = None
        self.handshake: HandshakeMaster | None = None
        self.connected: set[str] = set()
        self.connected_at: dict[str, float] = {}
        self.left_out: list[str] = []
        self.lost: dict[str, Loss] = {}
        self.busy: dict[str, float] = {}  # each worker's last busy figure (ProcessMeter)
        self.data_complete_at: float | None = None
        self.environment = self._environment()
        self.runner = self._runner()

    def _arrival_step(self, index: int | None, now: float) -> None:
        """An open-model step begins: its slots start now, at the plan's rate; at the end
        (None) no slot is started any more."""
        assert self.open_users is not None and self.arrival is not None
        if index is None:
            self.arrival.stop()
            return
        rates = self.spec.plan.rates or self.step_rates
        rate = rates[index]
        self.open_users.begin_step(now, rate)
        self.progress.note(
            f"step {index + 1}: {rate:g} iterations/s (open model, a pool of "
            f"{self.shape.step_users[index]} users)"
        )

    def _decide(self) -> Callable[[int], int | None] | None:
        """How the shape learns each step's users: the plan's list (None), the search over
        users, or (`--arrival-rate auto`) the search over rates."""
        if self.search is None:
            return None
        return self._next_rate if self.spec.plan.searches_rates else self._next_users

    def _lag(self) -> float:
        return WORKER_SERIES_LAG if self.spec.distributed else LOCAL_SERIES_LAG

    # -- set-up ------------------------------------------------------------------------------

    def _environment(self) -> Environment:
        path = str(self.spec.locustfile.path)
        options = get_parser(default_config_files=[]).parse_args(
            ["-f", path, "--host", self.spec.host]
        )
        options.headless = False  # the shape's end stops the users; the run quits Locust itself
        classes = list(self.spec.locustfile.user_classes)
        if self.open_users is not None:
            classes = [self.open_users.wrap(user_class) for user_class in classes]
        return Environment(
            user_classes=classes,
            shape_class=self.shape if isinstance(self.shape, StepShape) else None,
            events=locust.events,
            host=self.spec.host,
            # Locally, `_bound_drain` cuts the drain and counts what it cut; Locust's own
            # timeout is the backstop. Workers stop their users by Locust's timeout alone.
            stop_timeout=self.spec.drain_timeout + (0 if self.spec.distributed else DRAIN_BACKSTOP),
            parsed_options=options,
            parsed_locustfiles=[path],
            locustfile=self.spec.locustfile.path.name,
        )

    def _runner(self) -> Runner:
        env, spec = self.environment, self.spec
        events: Any = env.events  # Locust's hooks are untyped
        runner: Runner
        if spec.distributed:
            if (warning := master_bind_warning(spec.master_bind_host)) is not None:
                self.progress.note(warning)
            try:
                runner = env.create_master_runner(spec.master_bind_host, spec.master_bind_port)
            except (zmq.ZMQError, RPCError) as exc:  # an address not ours, a port in use
                raise UsageError(
                    f"--master-bind-host: the master cannot listen there ({exc}); "
                    "give an address of this machine and a free --master-bind-port"
                ) from None
            self.handshake = HandshakeMaster(
                runner, Identity.of(spec.locustfile.path), self.progress.note
            )
            accepted = self.handshake.accepted
            self.collector = MasterCollector(
                env, self.log, self._on_worker_cpu, admitted=accepted.__contains__
            )
            events.worker_connect.add_listener(self._on_worker_connect)
        else:
            runner = env.create_local_runner()
            intended = None if self.open_users is None else self.open_users.intended
            record_locally(events, self.log, intended=intended)
        events.test_stopping.add_listener(self._on_test_stopping)
        events.test_stop.add_listener(self._on_test_stop)
        events.init.fire(environment=env, runner=runner, web_ui=self._web_ui())
        return runner

    def _web_ui(self) -> Any:
        """Locust's WebUI with rightsizer's tab (`--web`), not serving yet; else None."""
        if self.spec.web is None:
            return None
        board = self.hooks.dashboard or Dashboard(None, list)
        limits = UiLimits(MAX_USERS, MIN_SPAWN_RATE, MAX_SPAWN_RATE)
        control = RunControl(
            self.spec.host, self.spec.ui_driven, self._ui_step, self._load_over, limits
        )
        self.web = WebServer.create(
            self.environment, self.spec.web, board, control, self.spec.locustfile.path
        )
        return self.web.web_ui

    def _ui_step(self, users: int) -> None:
        if isinstance(self.shape, UiSteps) and self.shape.begin(users):
            self.progress.note(f"step {len(self.shape.step_users)}: {users} users (web UI)")

    def _load_over(self) -> bool:
        return self.outcome.load_end is not None or self.shape.ended_at is not None

    def _next_users(self, index: int) -> int | None:
        """`--users auto`: the users of step `index`, from the steps measured so far."""
        return self._searched(index, "users")

    def _next_rate(self, index: int) -> int | None:
        """`--arrival-rate auto`: the pool of users of step `index`, whose rate (whole
        iterations a second) the search chooses from the steps measured so far, judged on
        their p95 from the intended start (StepOutcome.from_rate_stats)."""
        rate = self._searched(index, "iterations/s")
        if rate is None:
            return None
        self.step_rates.append(float(rate))
        return self.spec.plan.pool_for(rate)

    def _searched(self, index: int, unit: str) -> int | None:
        """The search's next step (`unit`: what it counts) from the steps measured so far, with
        its progress lines; None when the limit is bracketed."""
        assert self.search is not None
        done = self.finished_steps(time.time())
        value = self.search.next_users(done)
        if done:
            self.progress.note(f"step {index}: {self.search.describe(done, unit)}")
        if value is None:
            low, high = self.search.bracket(done)
            self.progress.note(f"search done: the limit lies between {low} and {high} {unit}")
        return value

    def finished_steps(self, now: float) -> list[StepOutcome]:
        """What the steps begun so far measured, for the search (StepOutcome.from_stats, or
        from_rate_stats in a search over rates)."""
        starts, users = self.shape.step_starts, self.shape.step_users
        if not starts or self.search is None:
            return []
        slo = self.search.limits.slo
        rates = self.spec.plan.searches_rates
        measured = measure_steps(
            self.log.records,
            starts=starts,
            users=users,
            load_end=now,
            warmup=self.spec.plan.warmup,
            store=self.store,
            rates=self.step_rates[: len(starts)] if rates else (),
            iterations=self.arrival.iterations if rates and self.arrival is not None else (),
        )
        if rates:
            return [StepOutcome.from_rate_stats(stats) for stats in measured]
        return [StepOutcome.from_stats(stats, slo) for stats in measured]

    def _on_worker_connect(self, client_id: str, **_: Any) -> None:
        self.connected.add(client_id)
        self.connected_at.setdefault(client_id, time.time())

    def _on_worker_cpu(self, client_id: str, percent: float, busy: float | None) -> None:
        """A worker's figures since its previous report: into the max and its own series."""
        if client_id not in self.lost:  # not a report in flight when it was lost
            self.monitor.report_remote(client_id, percent)
            self.busy[client_id] = percent if busy is None else busy
        self.store.put_many(process_gauges(client_id, time.time(), percent, busy))

    def _watch_workers(self, now: float) -> None:
        """During the load: an accepted worker that Locust marks missing (no heartbeat for
        3 s: killed, or cut off) or that left without its last records is lost; the records it
        made since its last report never arrive, so the steps they fall in are incomplete.
        A worker that joins during the load and is refused, or says no hello within
        HELLO_WAIT (and is left out), may have run users whose requests are not counted: the
        same."""
        if self.handshake is None or self.collector is None or self.shape.started_at is None:
            return
        assert isinstance(self.runner, MasterRunner)
        for worker in self._silent():
            if now - self.connected_at.get(worker, now) > HELLO_WAIT:
                self._leave_out(worker)
        late = [w for w, at in self.connected_at.items() if at >= self.shape.started_at]
        for worker in sorted(set(late) - set(self.lost)):
            if worker in self.handshake.refused or worker in self.left_out:
                self.lost[worker] = Loss(worker, self.connected_at[worker], now)
                self.outcome.lost_workers.append(self.lost[worker])
        present = {node.id: node for node in self.runner.clients.all}
        for worker in sorted(self.handshake.accepted - set(self.lost)):
            node = present.get(worker)
            gone = node is None or node.state == STATE_MISSING
            if not gone or worker in self.collector.drained:
                continue
            last = self.collector.last_report.get(worker, self.shape.started_at)
            self.lost[worker] = Loss(worker, last, now)
            self.outcome.lost_workers.append(self.lost[worker])
            self.busy.pop(worker, None)  # its last figures must not judge the steps after
            self.monitor.forget_remote(worker)
            self._rebalance()
            step = "" if self.shape.step is None else f" in step {self.shape.step + 1}"
            self.progress.note(
                f"worker {worker} lost{step} (no heartbeat or gone); its requests since its "
                f"last report {now - last:.1f} s ago are missing: the step is marked incomplete"
            )

    def _on_test_stopping(self, **_: Any) -> None:
        if self.outcome.load_end is None:
            if self.shape.ended_at is None and self.web is not None:
                self._stopped_in_ui()
            self.outcome.load_end = self.shape.ended_at or time.time()

    def _stopped_in_ui(self) -> None:
        """Locust stops, asked by neither the steps nor the run: Stop (or a run time) in the
        web UI. The end of a run the UI drives; an early end of one with steps."""
        if isinstance(self.shape, UiSteps):
            self.shape.stopped()
        else:
            self._request_stop(STOPPED_IN_UI)

    def _on_test_stop(self, **_: Any) -> None:
        if self.outcome.drain_end is None:
            self.outcome.drain_end = time.time()

    def _on_signal(self) -> None:
        self.signals += 1
        if self.signals == 1:
            self.progress.note("stopping: letting requests in flight finish (again to cut short)")
            self._request_stop(INTERRUPTED)
        else:
            self._force_stop()

    def _request_stop(self, stop: Stop) -> None:
        if self.outcome.stop.completed and self.shape.ended_at is None:
            self.outcome.stop = stop
        self.hooks.stopping()
        self.shape.finish()

    def _bound_drain(self) -> None:
        """Once the load has stopped, requests in flight get `drain_timeout` seconds; then they
        are cut, and counted (users still in a task: with a LocalRunner, one request each)."""
        ended = self.shape.ended_at
        if ended is None or self.outcome.drain_forced or self.outcome.drain_end is not None:
            return
        # Workers start their own drain_timeout when the stop reaches them: give them the
        # backstop, so a drain they finish in time is not reported as cut.
        limit = self.spec.drain_timeout + (DRAIN_BACKSTOP if self.spec.distributed else 0)
        if time.time() < ended + limit:
            return
        cut = None if self.spec.distributed else len(self.runner.user_greenlets)
        self._force_stop()
        self.outcome.drain_cut = cut
        counted = "requests in flight were" if cut is None else f"{cut} request(s) in flight"
        self.progress.note(
            f"drain: {counted} cut after {self.spec.drain_timeout:g} s (--drain-timeout)"
        )

    def _force_stop(self) -> None:
        """Second signal: stop waiting for tasks to finish; requests in flight are lost."""
        self.outcome.drain_forced = True
        self.environment.stop_timeout = 0
        self.runner.user_greenlets.kill(block=False)
        if self.outcome.drain_end is None:
            self.outcome.drain_end = time.time()

    # -- the run -----------------------------------------------------------------------------

    def execute(self) -> LoadOutcome:
        """Run the steps, drain, cool down; always leaves Locust and the workers stopped."""
        errors, handlers = logging_to(self.spec.run_dir / "locust.log")
        csv = StatsCSVFileWriter(
            self.environment, PERCENTILES_TO_REPORT, str(self.spec.run_dir / "locust")
        )
        csv_greenlet = gevent.spawn(csv.stats_writer)
        previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
        watchers = [
            gevent.signal_handler(signal.SIGINT, self._on_signal),
            gevent.signal_handler(signal.SIGTERM, self._on_signal),
        ]
        try:
            if self.hooks.interrupted():  # a signal came while Locust was being set up
                self._on_signal()
            if self.web is not None and not self.signals:
                self.web.serve()
                self.progress.note(f"web UI: {self.web.options.url}")
            if not self.signals and self._start_workers():
                if isinstance(self.shape, StepShape):
                    self.runner.start_shape()
                self._load_phase()
                self._collect_drained()
                self._cooldown_phase()
        finally:
            for watcher in watchers:
                watcher.cancel()
            for number, before in previous.items():
                signal.signal(number, before)
            self._finish(csv, csv_greenlet)
            self.outcome.locust_errors = errors.count
            for handler in handlers:
                logging.getLogger().removeHandler(handler)
                handler.close()
        return self.outcome

    def _start_workers(self) -> bool:
        """Start the local workers and wait for every expected one; False if interrupted."""
        spec = self.spec
        if not spec.distributed:
            return True
        assert isinstance(self.runner, MasterRunner)
        port = int(self.runner.server.port)
        self.workers = LocalWorkers.start(spec.workers, spec.locustfile.path, port, spec.run_dir)
        for pid in self.workers.pids:
            self.monitor.watch(pid)
        want = spec.workers + spec.expect_workers
        deadline = time.monotonic() + WORKER_CONNECT_TIMEOUT
        if spec.expect_workers:
            wildcard = spec.master_bind_host.strip("[]") in ("", "*", "0.0.0.0", "::")  # noqa: S104
            address = "THIS_MACHINE" if wildcard else spec.master_bind_host
            self.progress.note(
                f"waiting for {spec.expect_workers} worker(s): rightsizer worker --master "
                f"{address}:{port}"
            )
        assert self.handshake is not None
        while self.handshake.ready() < want:
            if self.signals:
                self.outcome.stop = INTERRUPTED
                return False
            if (message := self.workers.exited()) is not None:
                raise UnavailableError(message)
            if time.monotonic() > deadline:
                raise UnavailableError(self._too_few_workers(want, port))
            gevent.sleep(0.1)
        left_out = self._leave_out_silent()
        self.outcome.workers = {
            "local": spec.workers,
            "remote": spec.expect_workers,
            "port": port,
            "pids": self.workers.pids,
            "accepted": sorted(self.handshake.accepted),
            "refused": dict(sorted(self.handshake.refused.items())),
            "left_out": left_out,
        }
        return True

    def _silent(self) -> list[str]:
        assert self.handshake is not None and isinstance(self.runner, MasterRunner)
        known = self.handshake.accepted | set(self.handshake.refused)
        return sorted(node.id for node in self.runner.clients.all if node.id not in known)

    def _leave_out_silent(self) -> list[str]:
        """Before the steps: a connected worker that has not said hello within HELLO_WAIT
        (plain `locust --worker`, whose requests would not be recorded one by one) is sent
        Locust's quit and left out, so every request the run makes is counted."""
        assert isinstance(self.runner, MasterRunner)
        deadline = time.monotonic() + HELLO_WAIT
        while self._silent() and time.monotonic() < deadline:
            gevent.sleep(0.1)
        for worker in self._silent():
            self._leave_out(worker)
        return list(self.left_out)

    def _leave_out(self, worker: str) -> None:
        """Locust's quit to `worker`, and out of the master's list as if it had stopped."""
        assert isinstance(self.runner, MasterRunner)
        self.left_out.append(worker)
        self.runner.server.send_to_client(Message("quit", None, worker))  # type: ignore[no-untyped-call]
        self.runner.handle_message(worker, Message("client_stopped", None, worker))  # type: ignore[no-untyped-call]
        self.progress.note(
            f"worker {worker} left out: it sent no hello (plain `locust --worker`?), so its "
            "requests would not be recorded; start it with `rightsizer worker`"
        )
        self._rebalance()

    def _rebalance(self) -> None:
        """During a step, the step's users again over the workers that are left (Locust moves
        a lost worker's users only with --enable-rebalancing, and not while it spawns)."""
        if self.shape.step is None or self.shape.ended_at is not None:
            return
        if not isinstance(self.runner, MasterRunner):
            return
        runner = self.runner
        gevent.spawn(runner.start, runner.target_user_count, runner.spawn_rate)

    def _too_few_workers(self, want: int, port: int) -> str:
        assert self.handshake is not None and isinstance(self.runner, MasterRunner)
        have = self.handshake.ready()
        silent = len(self.runner.clients.all) - have
        refused = len(self.handshake.refused)
        return (
            f"{have} of {want} Locust workers connected to port {port} and agreed on versions "
            f"and locustfile within {WORKER_CONNECT_TIMEOUT:g} s"
            + (f"; {refused} refused (see above)" if refused else "")
            + (
                f"; {silent} sent no hello (plain `locust --worker`? use `rightsizer worker`)"
                if silent > 0
                else ""
            )
            + f"; see worker-*.log in {self.spec.run_dir}"
        )

    def _sleep_to_next_tick(self) -> None:
        now = time.time()
        gevent.sleep(max(0.0, next_tick(now) - now))

    def _load_phase(self) -> None:
        deadline = time.monotonic() + self.spec.plan.duration + self.spec.drain_timeout + 120
        if self.spec.ui_driven:
            deadline = math.inf  # the user ends it
        while self.outcome.drain_end is None:
            started = time.monotonic()
            stop = self.hooks.stop_requested()
            if stop is not None:
                self._request_stop(stop)
            if started > deadline:
                self.progress.note("the load did not stop in time; ending it hard")
                self._force_stop()
            self._bound_drain()
            phase = "step" if self.shape.step is not None else "starting"
            if phase == "starting" and self.spec.ui_driven:
                phase = WAITING_FOR_UI
            if self.shape.ended_at is not None:
                phase = "draining"
            self._tick(phase)
            self._sleep_to_next_tick()
        if self.outcome.load_end is None:
            self.outcome.load_end = self.outcome.drain_end
        self.outcome.step_starts = list(self.shape.step_starts)
        self.outcome.step_users = list(self.shape.step_users)
        self.outcome.step_rates = self.step_rates[: len(self.shape.step_starts)]
        self.outcome.load_start = self.shape.started_at
        if self.arrival is not None:
            self.arrival.stop()
            self.outcome.iterations = list(self.arrival.iterations)

    def _collect_drained(self) -> None:
        """With workers: wait until each has sent the records of its last requests."""
        if self.collector is None:
            return
        assert self.handshake is not None
        deadline = time.monotonic() + DRAINED_WAIT
        expected = (self.connected & self.handshake.accepted) - set(self.lost)
        while not expected <= self.collector.drained and time.monotonic() < deadline:
            gevent.sleep(0.1)
        # Locust's own statistics came in the same reports: they are complete from now on.
        self.data_complete_at = time.time()
        self.outcome.workers["drained"] = len(self.collector.drained)
        self.outcome.workers["foreign"] = sorted(self.collector.foreign)
        self.outcome.workers["rejected_rows"] = self.collector.rejected
        self.outcome.workers["lost"] = [lost.as_dict() for lost in self.lost.values()]
        self.outcome.workers["left_out"] = list(self.left_out)
        if foreign := self.collector.foreign - set(self.left_out):  # those were told already
            self.progress.note(
                f"{len(foreign)} worker(s) sent no request records (plain "
                "`locust --worker`?); start them with `rightsizer worker --master HOST:PORT`"
            )

    def _cooldown_phase(self) -> None:
        """No load from the drain's end for `cooldown` seconds, or until the alarms' wish if
        that is later; the fleet is still sampled."""
        start = self.outcome.drain_end or time.time()
        self.outcome.cooldown_start = start
        end = start + self.spec.plan.cooldown
        # A user who stopped the run wants it over: no waiting for the alarms then.
        if not self.outcome.stop.interrupted:
            wish = self.hooks.cooldown_until(start)
            end = end if wish is None else max(end, wish)
        signals = self.signals
        while time.time() < end:
            if self.signals > signals:
                self.outcome.cooldown_cut_short = True
                break
            self._tick("cooldown", remaining=end - time.time())
            self._sleep_to_next_tick()
        self.outcome.cooldown_end = time.time()

    def _tick(self, phase: str, remaining: float | None = None) -> None:
        """Once a second: new records into the store and the live line; generator CPU."""
        now = time.time()
        fresh, self.cursor = self.log.since(self.cursor)
        self.failures += sum(1 for record in fresh if not record.ok)
        self.recent.add(fresh)
        cpu = self.monitor.sample()
        points = self.series.add(fresh)
        samples = self.series.flush(now)
        users = self.runner.user_count if self.shape.started_at is not None else None
        samples += gauges(now, users, cpu, TICK)
        if self.monitor.own is not None:
            # This process's CPU only: its busy figure would count the run queue of a machine
            # the fleet and HAProxy share, which the answer judges as the rig (analysis.rig).
            own = "master" if self.spec.distributed else "local"
            samples += process_gauges(own, now - TICK / 2, self.monitor.own, None)
        if phase in ("step", "draining"):
            self._watch_workers(now)
        self.store.put_many(samples, points, MILLISECONDS)
        self.hooks.client_series_complete(self.series.complete_until)
        # The workers' busy: on a core or waiting for one (load.generator.ProcessMeter).
        figures = (cpu, *self.busy.values())
        busy = max((v for v in figures if v is not None), default=None)
        if self.bound.check(self.shape.step, self.shape.steady(now), busy):
            assert self.shape.step is not None and busy is not None
            self.outcome.generator_warnings.append(self.shape.step)
            self.progress.note(
                f"warning: a load generator process was busy {busy:.0f}% of a core in step "
                f"{self.shape.step + 1}; its figures are generator-bound (use --workers N, or "
                "more `rightsizer worker` processes)"
            )
        self.progress.show(self._snapshot(phase, now, cpu, remaining), now)
        # Millions of records live until the run ends: out of the collector's sight, its full
        # collections stop rescanning them (what is garbage by then is freed by refcounts).
        gc.freeze()

    def _snapshot(
        self, phase: str, now: float, cpu: float | None, remaining: float | None
    ) -> Snapshot:
        timed = phase == "step" and not self.spec.ui_driven
        if remaining is None and self.shape.started_at is not None and timed:
            remaining = self.shape.started_at + self.spec.plan.duration - now
        return Snapshot(
            phase=phase,
            step=self.shape.step,
            steps=len(self.spec.plan.users),
            users=self.runner.user_count,
            rps=self.recent.rps(now),
            p95_ms=self.recent.p95(now),
            requests=len(self.log),
            failures=self.failures,
            task_cpu=self.hooks.task_cpu(),
            generator_cpu=cpu,
            remaining=max(0.0, remaining) if remaining is not None else None,
        )

    def _finish(self, csv: StatsCSVFileWriter, csv_greenlet: gevent.Greenlet) -> None:
        """Last records into the store, Locust's CSV complete, Locust and workers ended."""
        fresh, self.cursor = self.log.since(self.cursor)
        points = self.series.add(fresh)
        self.store.put_many(self.series.close(time.time()), points, MILLISECONDS)
        self.hooks.client_series_complete(math.inf)
        if self.outcome.drain_end is not None:
            # Locust's CSV writer rewrites its files every CSV_STATS_INTERVAL_SEC: let it see
            # the final figures once (the workers' last reports included) before it is stopped.
            complete = max(self.outcome.drain_end, self.data_complete_at or 0.0)
            gevent.sleep(max(0.0, complete + CSV_STATS_INTERVAL_SEC - time.time()))
            gevent.sleep(0.1)
        csv_greenlet.kill(block=True)
        csv.close_files()
        self.environment.stop_timeout = 0
        events: Any = self.environment.events
        events.quitting.fire(environment=self.environment, reverse=True)
        self._quit_stopped_workers()
        self.runner.quit()
        events.quit.fire(exit_code=0)
        if self.web is not None:
            self.web.stop()
        if self.workers is not None:
            self.workers.stop()

    def _quit_stopped_workers(self) -> None:
        """Locust's quit reaches the workers it lists; one that stopped its users is left out
        of that list until it reports ready again (`--drain-timeout` later). Send those the
        quit too, so that every worker ends with the run (`rightsizer worker` then ends)."""
        if not isinstance(self.runner, MasterRunner):
            return
        listed = {node.id for node in self.runner.clients.all}
        for worker in sorted(self.connected - listed - set(self.lost)):
            self.runner.server.send_to_client(Message("quit", None, worker))  # type: ignore[no-untyped-call]


def next_tick(now: float) -> float:
    """The first tick time after `now`: TICK_PHASE past a whole second."""
    return math.floor(now - TICK_PHASE) + 1 + TICK_PHASE


def run_load(
    spec: LoadSpec, store: MetricStore, progress: Progress, hooks: LoadHooks
) -> LoadOutcome:
    """Run the plan against `spec.host` and return what happened (see LoadOutcome)."""
    return LocustDriver(spec, store, progress, hooks).execute()
