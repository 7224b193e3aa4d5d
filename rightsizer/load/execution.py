"""One `rightsizer run`: check the request, start the target, run the steps, write the run.

    result = execute(RunRequest(locustfile=UPLOADER, plan=RunPlan.build("1,3,20", 60),
                                settings=settings), console)

Order: everything that can be wrong with the arguments is checked first (locustfile, alarms,
--host reachable, the locustfile loads), so a bad argument costs nothing and exits 2. Then the
run directory, the uploader reset (bundled scenario on its own fleet, unless --no-reset), the
fleet, the alarms, the load (rightsizer.load.locust_driver, which imports Locust), the cooldown;
then, with the fleet stopped and its last samples in the store, steps.json and manifest.json.
The run directory is written whatever happens, Ctrl-C included ("interrupted": true; how the
run ended: rightsizer.stop).

With `web` (`--web`) the load serves Locust's web UI with the "Tasks & alarms" tab
(rightsizer.web); without steps in the plan (`load.ui_steps.ui_plan`) the UI sets them.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from rich.console import Console

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.config import Settings
from rightsizer.errors import RightsizerError, UsageError
from rightsizer.fault.fault import Fault, check_faults
from rightsizer.fault.schedule import FaultSchedule
from rightsizer.load import locustfile as locustfiles
from rightsizer.load.alarm_hook import AlarmWatch, cooldown_wish, default_alarm, select_alarms
from rightsizer.load.outcome import LoadOutcome
from rightsizer.load.plan import RunPlan
from rightsizer.load.progress import Progress
from rightsizer.load.run_facts import load_figures, versions
from rightsizer.load.spec import DRAIN_TIMEOUT, LoadHooks, LoadSpec
from rightsizer.load.step_stats import StepStats, measure_steps, steps_document
from rightsizer.load.target import FleetTarget, HostTarget, Target
from rightsizer.load.workers import master_bind_warning
from rightsizer.manifest import FAILED, FINISHED, Manifest
from rightsizer.metrics.store import MetricStore
from rightsizer.rundir import RunDir, write_json
from rightsizer.scenarios import is_bundled
from rightsizer.slo import Slo
from rightsizer.stop import INTERRUPTED, Stop
from rightsizer.web.options import WebOptions
from rightsizer.web.source import fleet_source
from rightsizer.web.stats import Dashboard, Reservation

if TYPE_CHECKING:  # boto3 is imported only by a run that reads CloudWatch
    from rightsizer.aws.cloudwatch_metrics import CloudWatchSource
    from rightsizer.aws.connection import AwsConnection
    from rightsizer.aws.deployed_alarm_watch import DeployedAlarmWatch
    from rightsizer.fault.db_proxy import DbProxy
    from rightsizer.fault.record import FaultRecord, Integrity
    from rightsizer.metrics.prometheus_source import PrometheusSource

MAX_LOCAL_WORKERS = 64
SCENARIO_VARIABLES = ("RIGHTSIZER_UPLOAD_KB",)
UPLOAD_REQUEST = "/index.php?action=save"  # the bundled uploader scenario's upload (its name)


def scenario_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The environment variables that shape a scenario (LOCUST_*, the upload size)."""
    return {
        key: value
        for key, value in sorted(env.items())
        if key in SCENARIO_VARIABLES or key.startswith("LOCUST_")
    }


@dataclass(frozen=True)
class RunRequest:
    """A checked-as-far-as-possible description of one run (the CLI builds it)."""

    locustfile: Path
    plan: RunPlan
    settings: Settings
    slo: Slo = field(default_factory=Slo)
    host: str | None = None
    reset: bool | None = None
    workers: int = 0
    expect_workers: int = 0
    master_bind_host: str = "127.0.0.1"
    master_bind_port: int = 0
    # A master bound beyond loopback must be asked for: Locust's worker protocol has no
    # authentication (--allow-remote-workers).
    allow_remote_workers: bool = False
    out: Path = Path("runs")
    label: str | None = None
    alarm_files: tuple[Path, ...] = ()
    config_file: Path | None = None
    command: tuple[str, ...] = ()
    # True when the user gave --cooldown: exactly plan.cooldown. Otherwise plan.cooldown is the
    # least, and the alarms may extend it to show the period after the load (alarm_hook).
    cooldown_fixed: bool = False
    # False when a caller builds the report itself (the demo writes it with its answer).
    report: bool = True
    web: WebOptions | None = None  # `--web`: Locust's web UI; with no steps in plan, it sets them
    drain_timeout: float = DRAIN_TIMEOUT
    # `--ecs` (with --host): the service's own CloudWatch metrics, read after the load.
    cloudwatch: CloudWatchSource | None = None
    aws: AwsConnection | None = None
    ecs_tasks: int | None = None  # the service's desired count for this run (--ecs-tasks)
    reset_cmd: str | None = None  # `--reset-cmd`: the user's cleanup before the load
    deployed_alarm: str | None = None  # `--deployed-alarm`: compared with our evaluation
    faults: tuple[Fault, ...] = ()  # `--fault`: done during the load (rightsizer.fault.fault)
    # `--prometheus` (with --host): the pods' CPU and memory, read after the load.
    prometheus: PrometheusSource | None = None

    def check(self) -> None:
        """UsageError naming the flag for values the plan does not cover."""
        if not 0 <= self.workers <= MAX_LOCAL_WORKERS:
            raise UsageError(f"--workers: {self.workers}; give 0 to {MAX_LOCAL_WORKERS}")
        if not 0 <= self.expect_workers <= 10_000:
            raise UsageError(f"--expect-workers: {self.expect_workers}; give 0 or more")
        if not 0 <= self.master_bind_port <= 65535:
            raise UsageError(f"--master-bind-port: {self.master_bind_port} is not a port")
        if not self.allow_remote_workers and master_bind_warning(self.master_bind_host):
            raise UsageError(
                f"--master-bind-host: {self.master_bind_host or '*'} is reachable from other "
                "machines and Locust's worker protocol has no authentication; add "
                "--allow-remote-workers (a trusted network only) or bind 127.0.0.1"
            )
        if self.plan.is_open and self.workers + self.expect_workers > 0:
            # Its schedule, and the intended start of every request, live in this process.
            raise UsageError(
                "--arrival-rate: the open-model load runs in this one process so far; "
                "drop --workers/--expect-workers"
            )
        if not (math.isfinite(self.drain_timeout) and 0 <= self.drain_timeout <= 600):
            raise UsageError(f"--drain-timeout: {self.drain_timeout:g}; give 0 to 600 seconds")
        if self.web is not None:
            self.web.check_bindable()


@dataclass
class RunResult:
    """Where the run went and what it measured."""

    run_dir: Path
    steps: list[StepStats] = field(default_factory=list)
    outcome: LoadOutcome | None = None
    error: str | None = None
    # A Ctrl-C or SIGTERM came after the load, while the run was written (not in `stop`).
    signalled: bool = False

    @property
    def stop(self) -> Stop:
        """How it ended; a run stopped before its load began was interrupted (Ctrl-C)."""
        return INTERRUPTED if self.outcome is None else self.outcome.stop


def _wants_reset(request: RunRequest, bundled: bool) -> bool:
    if request.reset is not None:
        return request.reset
    return request.host is None and request.settings.task_cmd is None and bundled


def _base_manifest(request: RunRequest, path: Path, bundled: bool) -> Manifest:
    plan = request.plan
    search = plan.as_dict()["search"]
    return Manifest(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        command=tuple(request.command),
        label=request.label,
        versions=versions(),
        settings=request.settings.as_dict(),
        locustfile=str(path),
        bundled_scenario=bundled,
        scenario_env=scenario_environment(os.environ),
        users=plan.users,
        search=search if isinstance(search, dict) else None,
        slo=request.slo,
        step_time=plan.step_time,
        warmup=plan.warmup,
        spawn_rate=plan.spawn_rate,
        cooldown_seconds=plan.cooldown,
        workers={"local": request.workers, "remote": request.expect_workers},
        host=request.host,
        web=None if request.web is None else request.web.as_dict(),
    )


def schedule(
    plan: RunPlan, waited_for: Sequence[AlarmDefinition], request: RunRequest, now: float = 0.0
) -> str:
    """The run's first line: how long it takes, cooldown included (the alarms `waited_for`
    may lengthen the cooldown; the fleet's start and the report come on top)."""
    if plan.search is None and not plan.users:
        return (
            "this run: you set the steps in the web UI and Stop ends them; then up to "
            f"{request.drain_timeout:g} s of drain and a {plan.cooldown:g} s cooldown"
        )
    load = plan.duration
    wish = None if request.cooldown_fixed else cooldown_wish(waited_for, now + load + 0.5)
    cooldown = plan.cooldown if wish is None else max(plan.cooldown, wish.until - now - load)
    steps = f"{plan.max_steps} step" + "s" * (plan.max_steps != 1)
    steps = f"up to {steps}" if plan.search is not None else steps
    return (
        f"this run: {steps} x {plan.step_time:g} s = {load:g} s of load, up to "
        f"{request.drain_timeout:g} s of drain, {cooldown:.0f} s of cooldown"
        + (f" (until {wish.alarm.name} has seen a period after the load)" if wish else "")
        + f": about {_minutes(load + cooldown)}, plus the fleet's start and the report"
    )


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


class _Execution:
    """The steps of `execute`, sharing the run directory, store and manifest."""

    def __init__(self, request: RunRequest, console: Console) -> None:
        self.request = request
        self.console = console
        self.progress = Progress(console)
        self.path = locustfiles.check_path(request.locustfile)
        request.check()
        self.bundled = is_bundled(self.path)
        seed = self.bundled and request.host is None and request.settings.task_cmd is None
        alarms = select_alarms(
            request.alarm_files, request.config_file, env=os.environ, cwd=Path.cwd()
        )
        asked = bool(alarms)  # an alarm nobody asked for must not lengthen the run
        if not alarms and seed:
            alarms = [default_alarm(request.plan.step_time)]
        self.watch = AlarmWatch(
            alarms, self.progress.note, extend_cooldown=asked and not request.cooldown_fixed
        )
        check_faults(
            request.faults,
            load_seconds=request.plan.duration if request.plan.users else None,
            tasks=request.settings.tasks,
            fleet=request.host is None,
        )
        self.host = HostTarget.check(request.host) if request.host else None
        self.locustfile = locustfiles.load(self.path)  # imports Locust: last of the checks
        self.deployed: DeployedAlarmWatch | None = None
        self.ecs_desired: int | None = None
        self.pods_seen: int | None = None  # --prometheus: the pods matching when it began
        self.aws = self._check_cloudwatch()  # after Locust: its gevent must patch ssl first
        self._check_prometheus()
        waited_for = alarms if asked else []
        self.progress.note(schedule(request.plan, waited_for, request, time.time()), "bold")
        self.run_dir = RunDir.create(request.out, request.label or self.path.stem)
        self.manifest = replace(
            _base_manifest(request, self.path, self.bundled),
            alarms=tuple(alarm.name for alarm in alarms),
            ignored_shapes=tuple(self.locustfile.ignored_shapes),
        )
        if self.locustfile.ignored_shapes:
            self.progress.note(
                f"the locustfile's shape {', '.join(self.locustfile.ignored_shapes)} is ignored; "
                "--users and --step-time shape the load"
            )
        self._write_manifest()
        self.store = MetricStore(self.run_dir.metrics_path)
        self.target: Target | None = self.host
        self.faults: FaultSchedule | None = None
        self.db_proxy: DbProxy | None = None  # MariaDB faults: the tasks' way to the database

    def _run_reset_command(self, interrupts: _Interrupts) -> None:
        """--reset-cmd: the user's cleanup, its output in the run directory; a failure ends
        the run before any load (the manifest says why)."""
        from rightsizer.load.reset_command import RESET_LOG, run_reset_command  # noqa: PLC0415

        command = self.request.reset_cmd or ""
        self.progress.note(f"resetting: {command}")
        facts = run_reset_command(command, self.run_dir.path / RESET_LOG, cancelled=interrupts.seen)
        reset = dict(self.manifest.reset or {}) | {"reset_cmd": facts}
        self.manifest = replace(self.manifest, reset=reset)
        self._write_manifest()

    def _check_cloudwatch(self) -> AwsConnection | None:
        """With --ecs: a --host, steps of three periods at least, a region, a service that
        exists; the connection with its region."""
        source, connection = self.request.cloudwatch, self.request.aws
        if source is None or connection is None:
            return None
        if self.request.host is None:
            raise UsageError("--ecs: needs --host URL, the service's own address (its ALB)")
        plan = self.request.plan
        if plan.users or plan.search is not None:  # the web UI's steps are the user's own
            source.check_step_time(plan.step_time)
        from rightsizer.aws.ecs_service import task_counts  # noqa: PLC0415  # boto3

        connection = connection.resolved()
        self.ecs_desired = task_counts(connection, source.ecs).desired
        if self.request.deployed_alarm:
            from rightsizer.aws.deployed_alarm_watch import DeployedAlarmWatch  # noqa: PLC0415

            name = self.request.deployed_alarm
            self.deployed = DeployedAlarmWatch.pull(connection, name, source.period)
        return connection

    def _cloudwatch_facts(self) -> dict[str, Any]:
        source, connection = self.request.cloudwatch, self.aws
        if source is None or connection is None:
            return {}
        facts = source.describe() | connection.describe()
        if self.request.ecs_tasks is not None:
            facts["desired_tasks"] = self.request.ecs_tasks
        # An ECS service's task count is known: the report and `compare` count per task.
        tasks = self.request.ecs_tasks or self.ecs_desired
        return {"kind": "ecs", "tasks": tasks, "cloudwatch": facts}

    def _record_cloudwatch(
        self, outcome: LoadOutcome | None, signalled: Callable[[], bool] = lambda: False
    ) -> None:
        """Read the service's CloudWatch metrics over the run into the store (--ecs); a
        failure is said and kept in the manifest, never a reason to lose the run. An
        interrupted run keeps what is published without waiting (--ecs-tasks then puts the
        desired count back at once)."""
        source, connection = self.request.cloudwatch, self.aws
        start = end = None
        if outcome is not None:
            start = outcome.load_start or (outcome.step_starts[0] if outcome.step_starts else None)
            end = outcome.cooldown_end or outcome.drain_end or outcome.load_end
        if source is None or connection is None or start is None or end is None:
            if self.deployed is not None:
                self.deployed.poller.stop()
            return
        from rightsizer.aws.cloudwatch_metrics import record  # noqa: PLC0415  # boto3

        facts = self._cloudwatch_facts()["cloudwatch"]
        interrupted = outcome is not None and outcome.stop.interrupted
        try:
            recording = record(
                connection, source, self.store, start, end, note=self.progress.note,
                cancelled=lambda: interrupted or signalled(),
            )  # fmt: skip
        except RightsizerError as exc:
            self.progress.note(f"CloudWatch metrics not recorded: {exc}")
            facts["error"] = str(exc)
        else:
            facts["recording"] = recording.to_json()
            if recording.missing:
                self.progress.note(f"no CloudWatch datapoints for {', '.join(recording.missing)}")
        if self.deployed is not None:
            facts["deployed_alarm"] = self._compare_deployed_alarm(start, end)
        target = dict(self.manifest.target or {}) | {"cloudwatch": facts}
        self.manifest = replace(self.manifest, target=target)

    def _compare_deployed_alarm(self, start: float, end: float) -> dict[str, Any]:
        """--deployed-alarm: CloudWatch's transitions next to ours, in cloudwatch_alarm.json."""
        from rightsizer.alarms.agreement import AGREEMENT_FILE  # noqa: PLC0415

        assert self.deployed is not None
        try:
            agreement = self.deployed.finish(self.store, start, end)
        except RightsizerError as exc:
            self.progress.note(f"the deployed alarm was not compared: {exc}")
            return {"error": str(exc)}
        write_json(self.run_dir.path / AGREEMENT_FILE, agreement.to_json())
        self.progress.note(agreement.summary())
        for row in agreement.rows:
            if not row.agree:
                self.progress.note(f"  to {row.new_state}: {row.note}")
        return {"file": AGREEMENT_FILE, "source": agreement.source, "agreed": agreement.agreed,
                "transitions": len(agreement.rows)}  # fmt: skip

    def _check_prometheus(self) -> None:
        """With --prometheus: a --host, and pods matching the selector now (one line on them)."""
        source = self.request.prometheus
        if source is None:
            return
        if self.request.host is None:
            raise UsageError("--prometheus: needs --host URL, the service's own address")
        if self.request.cloudwatch is not None:
            raise UsageError("--prometheus: not with --ecs; the run reads one source of metrics")
        check = source.check()
        self.pods_seen = check.pods
        self.progress.note(check.line())

    def _prometheus_facts(self) -> dict[str, Any]:
        source = self.request.prometheus
        if source is None:
            return {}
        # The pods are counted: the report and the answer read them per task, as an ECS run.
        return {"kind": "kubernetes", "tasks": self.pods_seen, "prometheus": source.describe()}

    def _record_prometheus(self, outcome: LoadOutcome | None) -> None:
        """Read the pods' series over the run into the store (--prometheus); a failure is
        said and kept in the manifest, never a reason to lose the run."""
        source = self.request.prometheus
        if source is None or outcome is None:
            return
        start = outcome.load_start or (outcome.step_starts[0] if outcome.step_starts else None)
        end = outcome.cooldown_end or outcome.drain_end or outcome.load_end
        if start is None or end is None:
            return
        from rightsizer.metrics.prometheus_source import record  # noqa: PLC0415  # httpx

        facts = source.describe()
        try:
            recording = record(source, self.store, start, end, note=self.progress.note)
        except RightsizerError as exc:
            self.progress.note(f"Prometheus metrics not recorded: {exc}")
            facts["error"] = str(exc)
        else:
            facts["recording"] = recording.to_json()
            for line in recording.notes():
                self.progress.note(f"Prometheus: {line}")
        target = dict(self.manifest.target or {}) | {"prometheus": facts}
        self.manifest = replace(self.manifest, target=target)

    def _write_manifest(self) -> None:
        write_json(self.run_dir.manifest_path, self.manifest.to_json())

    def prepare(self, interrupts: _Interrupts) -> Target:
        """Reset the uploader if wanted, start the fleet if needed; the target."""
        interrupts.check()
        if _wants_reset(self.request, self.bundled):
            from rightsizer.uploader.reset import reset  # noqa: PLC0415  # only when resetting

            self.manifest = replace(self.manifest, reset=reset(self.request.settings).as_dict())
        interrupts.check()
        if self.request.reset_cmd:
            self._run_reset_command(interrupts)
        if self.target is None:
            self.progress.note(f"starting the fleet ({self.request.settings.tasks} task(s))")
            self.target = FleetTarget.start(
                self._proxied(self.request.settings), self.run_dir.path, cancelled=interrupts.seen
            )
        interrupts.check()
        if self.request.faults:
            self.faults = _fault_schedule(
                self.request, self.target, self.progress.note, self.db_proxy
            )
        target = self.target.describe() | self._cloudwatch_facts() | self._prometheus_facts()
        self.manifest = replace(self.manifest, host=self.target.url, target=target)
        if self.deployed is not None:
            self.deployed.start()
        self._write_manifest()
        return self.target

    def _proxied(self, settings: Settings) -> Settings:
        """With a database fault on MariaDB, the tasks' settings with the database reached
        through a tcp proxy of this run (rightsizer.fault.db_proxy); else `settings`."""
        backend = settings.db.split(":", 1)[0].split("+", 1)[0]
        if backend not in ("mysql", "mariadb") or not any(
            fault.kind.on_database for fault in self.request.faults
        ):
            return settings
        from rightsizer.fault.db_proxy import DbProxy  # noqa: PLC0415

        self.db_proxy = DbProxy.start(settings.db)
        self.progress.note(f"the tasks reach the database through a tcp proxy at "
                           f"{self.db_proxy.address} (--fault)")  # fmt: skip
        return replace(settings, db=self.db_proxy.url)

    def load(self, target: Target, interrupts: _Interrupts) -> LoadOutcome:
        from rightsizer.load.locust_driver import run_load  # noqa: PLC0415  # imports Locust

        request = self.request
        spec = LoadSpec(
            locustfile=self.locustfile,
            host=target.url,
            plan=request.plan,
            run_dir=self.run_dir.path,
            workers=request.workers,
            expect_workers=request.expect_workers,
            master_bind_host=request.master_bind_host,
            master_bind_port=request.master_bind_port,
            web=request.web,
            drain_timeout=request.drain_timeout,
        )
        self.watch.start(self.store, self.run_dir.metrics_path)
        with self.progress:
            dashboard = self._dashboard(target) if request.web else None
            hooks = LoadHooks(
                # With the web UI up, its poll already reads the fleet every second.
                task_cpu=target.task_cpu if dashboard is None else dashboard.task_cpu,
                stop_requested=self.watch.stop_reason,
                client_series_complete=self.watch.client_series_complete,
                cooldown_until=self.watch.cooldown_until,
                dashboard=dashboard,
                interrupted=interrupts.seen,
                stopping=self.faults.halt if self.faults is not None else lambda: None,
            )
            if self.faults is None:
                return run_load(spec, self.store, self.progress, hooks)
            self.faults.start()  # time 0 of the fault schedule: the load's start
            try:
                return run_load(spec, self.store, self.progress, hooks)
            finally:
                self.faults.stop()  # every fault undone, whatever ended the load

    def _dashboard(self, target: Target) -> Dashboard:
        """The web UI's "Tasks & alarms" data: the fleet's tasks (none for --host), the alarms."""
        fleet = target if isinstance(target, FleetTarget) else None
        source = fleet_source(fleet.control_url, fleet.balanced) if fleet else None
        settings = self.request.settings
        watch = self.watch
        return Dashboard(
            source,
            watch.states,
            watch.alarms,
            Reservation(settings.cpu, settings.memory) if source is not None else None,
        )

    def finish(self, result: RunResult, signalled: Callable[[], bool] = lambda: False) -> None:
        """Stop alarms and fleet, then write steps.json and the final manifest; `signalled`:
        a Ctrl-C or SIGTERM came after the load (no more waiting for CloudWatch)."""
        states = self.watch.stop()
        self.manifest = replace(
            self.manifest,
            alarm_states=tuple(states),
            alarm_transitions=tuple(self.watch.transitions),
        )
        if self.faults is not None:
            self.faults.stop()  # a no-op after the load's own; here for an error before it
        if self.target is not None:
            self.target.stop()
        if self.db_proxy is not None:
            self.db_proxy.close()
        outcome = result.outcome
        if self.faults is not None and outcome is not None:
            self._write_faults(outcome)
        self._record_cloudwatch(outcome, signalled)
        self._record_prometheus(outcome)
        if outcome is not None:
            self.manifest = replace(
                self.manifest, load=load_figures(outcome), users=tuple(outcome.step_users)
            )
            result.steps = self._steps(outcome)
        self.manifest = replace(
            self.manifest,
            interrupted=result.stop.interrupted,
            stop_reason=result.stop.text,
            status=FAILED if result.error else FINISHED,
            error=result.error or None,
        )
        write_json(self.run_dir.steps_path, steps_document(result.steps))
        self._write_manifest()
        self.store.close()
        self._conclude()

    def _write_faults(self, outcome: LoadOutcome) -> None:
        """faults.json beside steps.json: each fault measured (rightsizer.fault.record)."""
        from rightsizer.fault.record import FAULTS_FILE, measure_faults  # noqa: PLC0415

        assert self.faults is not None
        start = outcome.load_start or (outcome.step_starts[0] if outcome.step_starts else None)
        end = outcome.load_end
        if start is None or end is None:
            return
        document = measure_faults(
            self.faults.runs,
            changes=self.faults.changes,
            records=outcome.records,
            transitions=self.watch.transitions,
            load=(start, end),
            step_starts=outcome.step_starts,
            integrity=self._integrity(outcome),
        )
        write_json(self.run_dir.path / FAULTS_FILE, document.to_json())
        for record in document.faults:
            self.progress.note(f"fault {record.sentence}")
        if document.integrity is not None:
            self.progress.note(_integrity_line(document.integrity))

    def _integrity(self, outcome: LoadOutcome) -> Integrity | None:
        """The uploader's rows and files against the uploads acknowledged, when this run reset
        the uploader (its store then holds this run's uploads only)."""
        from rightsizer.fault.record import Integrity  # noqa: PLC0415
        from rightsizer.uploader.verify import verify  # noqa: PLC0415  # sqlalchemy

        if self.manifest.reset is None or "reset_cmd" in self.manifest.reset:
            return None
        try:
            report = verify(self.request.settings)
        except RightsizerError as exc:
            self.progress.note(f"the uploader's integrity was not checked: {exc}")
            return None
        acknowledged = sum(r.ok and r.name == UPLOAD_REQUEST for r in outcome.records)
        return Integrity(acknowledged, report.rows, report.files, report.consistent)

    def _conclude(self) -> None:
        """answer.json (what this run measured about the limit), then report.html and its
        charts unless the caller writes them, also for an interrupted run. One that cannot
        be built is said, never a reason to lose the run (`rightsizer report` retries)."""
        from rightsizer.analysis.answer import build_answer  # noqa: PLC0415  # scipy
        from rightsizer.analysis.recorded_run import load_run  # noqa: PLC0415
        from rightsizer.report.html import write_report  # noqa: PLC0415  # matplotlib

        try:
            run = load_run(self.run_dir.path)
            answer = build_answer(run, faults=_recorded_faults(self.run_dir.path))
            if self.request.report:  # the report keeps its answer as answer.json
                written = write_report(self.run_dir.path, answer, run=run)
            else:
                write_json(self.run_dir.answer_path, answer.to_json())
            self.progress.note(f"answer: {self.run_dir.answer_path}")
            if self.request.report:
                self.progress.note(f"report: {written.report}")
        except (RightsizerError, OSError, ValueError) as exc:
            self.progress.note(
                f"answer and report not written ({exc}); try `rightsizer report RUN`"
            )

    def _steps(self, outcome: LoadOutcome) -> list[StepStats]:
        if not outcome.step_starts or outcome.load_end is None:
            return []
        return measure_steps(
            outcome.records,
            starts=outcome.step_starts,
            users=outcome.step_users,
            load_end=outcome.load_end,
            warmup=self.request.plan.warmup,
            store=self.store,
            series_end=outcome.cooldown_end or outcome.drain_end or outcome.load_end,
            losses=outcome.lost_workers,
            rates=self.request.plan.rates or outcome.step_rates,
            iterations=outcome.iterations,
        )


def _fault_schedule(
    request: RunRequest, target: Target, note: Callable[[str], None], proxy: DbProxy | None
) -> FaultSchedule:
    """The run's faults on the fleet it started, after checking this machine can do them."""
    from rightsizer.fault.actions import FaultFleet, inject  # noqa: PLC0415

    if not isinstance(target, FleetTarget):
        raise UsageError("--fault: needs the fleet this run starts; drop --host")
    settings = request.settings
    fleet = FaultFleet.from_state(target.state, settings.cgroup_root, settings.db, proxy)
    fleet.check(request.faults)
    lb_rows = fleet.lb().show_stat if fleet.lb_socket is not None else None
    return FaultSchedule(
        request.faults, lambda fault: inject(fault, fleet), lb_rows=lb_rows, note=note
    )


def _recorded_faults(run_dir: Path) -> tuple[FaultRecord, ...]:
    """The faults.json records of the run (none without faults.json)."""
    from rightsizer.fault.record import FAULTS_FILE, FaultsDocument  # noqa: PLC0415

    path = run_dir / FAULTS_FILE
    if not path.is_file():
        return ()
    try:
        return FaultsDocument.from_json(json.loads(path.read_text())).faults
    except (KeyError, TypeError) as exc:  # ValueError, OSError: the caller says them
        raise ValueError(f"{path}: not a valid faults.json ({exc})") from None


def _integrity_line(integrity: Integrity) -> str:
    if integrity.intact:
        return f"uploader intact: {integrity.rows} rows = files = acknowledged uploads"
    return (
        f"uploader NOT intact: {integrity.acknowledged} acknowledged uploads, "
        f"{integrity.rows} rows, {integrity.files} files, consistent={integrity.consistent}"
    )


class _Interrupts:
    """Ctrl-C and SIGTERM outside the load: noted here, acted on at the next check, so the
    fleet is stopped and the run directory written (a handler that raised would do it from
    inside gevent's loop, which prints a traceback). The load has handlers of its own."""

    def __init__(self) -> None:
        self.count = 0
        self._previous: dict[int, Any] = {}

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1

    def install(self) -> None:
        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, self)

    def restore(self) -> None:
        for number, before in self._previous.items():
            signal.signal(number, before)

    def seen(self) -> bool:
        return self.count > 0

    def check(self) -> None:
        if self.count:
            raise KeyboardInterrupt


def execute(request: RunRequest, console: Console) -> RunResult:
    """Run `request`; see the module docstring. Argument errors raise before anything starts."""
    # From the start: a signal while Locust is imported or the run directory is made is noted,
    # and the run ends at its first check with the directory written.
    interrupts = _Interrupts()
    interrupts.install()
    try:
        run = _Execution(request, console)
        result = RunResult(run.run_dir.path)
        try:
            target = run.prepare(interrupts)
            result.outcome = run.load(target, interrupts)
        except KeyboardInterrupt:
            run.progress.note("interrupted before the load began")
        except RightsizerError as exc:
            result.error = str(exc)
            raise
        finally:
            run.finish(result, interrupts.seen)
    finally:
        interrupts.restore()
    result.signalled = interrupts.seen()
    return result
