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

import math
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.config import Settings
from rightsizer.errors import RightsizerError, UsageError
from rightsizer.load import locustfile as locustfiles
from rightsizer.load.alarm_hook import AlarmWatch, cooldown_wish, default_alarm, select_alarms
from rightsizer.load.outcome import LoadOutcome
from rightsizer.load.plan import RunPlan
from rightsizer.load.progress import Progress
from rightsizer.load.run_facts import load_figures, versions
from rightsizer.load.spec import DRAIN_TIMEOUT, LoadHooks, LoadSpec
from rightsizer.load.step_stats import StepStats, measure_steps, steps_document
from rightsizer.load.target import FleetTarget, HostTarget, Target
from rightsizer.manifest import FAILED, FINISHED, Manifest
from rightsizer.metrics.store import MetricStore
from rightsizer.rundir import RunDir, write_json
from rightsizer.scenarios import is_bundled
from rightsizer.slo import Slo
from rightsizer.stop import INTERRUPTED, Stop
from rightsizer.web.options import WebOptions
from rightsizer.web.source import fleet_source
from rightsizer.web.stats import Dashboard, Reservation

MAX_LOCAL_WORKERS = 64
SCENARIO_VARIABLES = ("RIGHTSIZER_UPLOAD_KB",)


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

    def check(self) -> None:
        """UsageError naming the flag for values the plan does not cover."""
        if not 0 <= self.workers <= MAX_LOCAL_WORKERS:
            raise UsageError(f"--workers: {self.workers}; give 0 to {MAX_LOCAL_WORKERS}")
        if not 0 <= self.expect_workers <= 10_000:
            raise UsageError(f"--expect-workers: {self.expect_workers}; give 0 or more")
        if not 0 <= self.master_bind_port <= 65535:
            raise UsageError(f"--master-bind-port: {self.master_bind_port} is not a port")
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


class _Run:
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
        self.host = HostTarget.check(request.host) if request.host else None
        self.locustfile = locustfiles.load(self.path)  # imports Locust: last of the checks
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

    def _write_manifest(self) -> None:
        write_json(self.run_dir.manifest_path, self.manifest.to_json())

    def prepare(self, interrupts: _Interrupts) -> Target:
        """Reset the uploader if wanted, start the fleet if needed; the target."""
        interrupts.check()
        if _wants_reset(self.request, self.bundled):
            from rightsizer.uploader.reset import reset  # noqa: PLC0415  # only when resetting

            self.manifest = replace(self.manifest, reset=reset(self.request.settings).as_dict())
        interrupts.check()
        if self.target is None:
            self.progress.note(f"starting the fleet ({self.request.settings.tasks} task(s))")
            self.target = FleetTarget.start(
                self.request.settings, self.run_dir.path, cancelled=interrupts.seen
            )
        interrupts.check()
        self.manifest = replace(self.manifest, host=self.target.url, target=self.target.describe())
        self._write_manifest()
        return self.target

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
            )
            return run_load(spec, self.store, self.progress, hooks)

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

    def finish(self, result: RunResult) -> None:
        """Stop alarms and fleet, then write steps.json and the final manifest."""
        states = self.watch.stop()
        self.manifest = replace(
            self.manifest,
            alarm_states=tuple(states),
            alarm_transitions=tuple(self.watch.transitions),
        )
        if self.target is not None:
            self.target.stop()
        outcome = result.outcome
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

    def _conclude(self) -> None:
        """answer.json (what this run measured about the limit), then report.html and its
        charts unless the caller writes them, also for an interrupted run. One that cannot
        be built is said, never a reason to lose the run (`rightsizer report` retries)."""
        from rightsizer.analysis.answer import build_answer  # noqa: PLC0415  # scipy
        from rightsizer.analysis.recorded_run import load_run  # noqa: PLC0415
        from rightsizer.report.html import write_report  # noqa: PLC0415  # matplotlib

        try:
            run = load_run(self.run_dir.path)
            answer = build_answer(run)
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
        run = _Run(request, console)
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
            run.finish(result)
    finally:
        interrupts.restore()
    return result
