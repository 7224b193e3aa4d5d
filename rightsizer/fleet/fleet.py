"""A fleet for in-process use: tasks in capped groups, HAProxy, samplers, /metrics and /status.

    with Fleet(FleetSpec(workdir=tmp, tasks=2, command=cmd), store=MetricStore(db)) as fleet:
        httpx.get(fleet.url)
        fleet.status().tasks[0].cpu_utilization

`start()` sweeps what an earlier crashed supervisor left, picks the cgroup driver (uncapped, with
one warning, when the tree cannot be written), then a thread of the fleet's own starts the tasks
and HAProxy and keeps replacing tasks that end; `stop()` (or leaving the `with`) stops HAProxy,
then the tasks, and removes every group. Nothing outlives the process: children carry the
parent-death signal.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from rightsizer.cgroup.driver import DriverChoice, open_driver, parent_name
from rightsizer.fleet import status as status_view
from rightsizer.fleet.control_server import ControlServer
from rightsizer.fleet.haproxy import version as haproxy_version
from rightsizer.fleet.haproxy_config import BACKEND, server_name
from rightsizer.fleet.ledger import Ledger, default_directory
from rightsizer.fleet.scheduler import Scheduler, StoppedTask
from rightsizer.fleet.spec import FleetSpec, uploader_command
from rightsizer.fleet.status import FleetSnapshot, FleetStatus, TaskFacts
from rightsizer.fleet.sweep import sweep
from rightsizer.fleet.task import TaskState
from rightsizer.metrics.haproxy_sampler import HAProxySampler
from rightsizer.metrics.kubernetes_series import (
    OTHER_CONTAINER,
    UPLOADER_CONTAINER,
    FleetPods,
    PodCollector,
)
from rightsizer.metrics.machine_sampler import MachineSampler
from rightsizer.metrics.prometheus import private_registry
from rightsizer.metrics.sampler import Sampler, SamplingLoop
from rightsizer.metrics.store import MetricStore
from rightsizer.metrics.task_sampler import TaskSampler, TaskView

log = logging.getLogger("rightsizer.fleet")
_TEND_INTERVAL = 0.1


class Fleet:
    """N tasks behind HAProxy (or one task alone with `Balancing.NONE`), sampled each tick.

    `ledger_dir` holds the records of the processes it starts (`rightsizer.fleet.ledger`); a
    supervisor passes its state directory's, and the default is one in the fleet's workdir."""

    def __init__(
        self,
        spec: FleetSpec,
        *,
        store: MetricStore | None = None,
        ledger_dir: Path | None = None,
        control: bool = True,
    ) -> None:
        self.spec = spec
        self.store = store
        self.name = parent_name()
        self.warnings: list[str] = []
        self._ledger_dir = ledger_dir or default_directory(spec.workdir)
        self._with_control = control
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._socket_dir: Path | None = None
        self._ledger: Ledger | None = None
        self.choice: DriverChoice | None = None
        self.scheduler: Scheduler | None = None
        self.sampling: SamplingLoop | None = None
        self.haproxy_sampler: HAProxySampler | None = None
        self.control: ControlServer | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Fleet:
        """Start everything; returns once every task is healthy and HAProxy listens."""
        try:
            self._prepare()
            self._thread = threading.Thread(target=self._run, name="rightsizer-fleet", daemon=True)
            self._thread.start()
            self._ready.wait()
            if self._error is not None:
                raise self._error
            self._start_sampling()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)  # an interpreter that ends without stop() still cleans up
        return self

    def stop(self) -> None:
        """Stop sampling, HAProxy and the tasks; remove the groups. Safe to call twice."""
        atexit.unregister(self.stop)
        if self.control is not None:
            self.control.stop()
            self.control = None
        if self.sampling is not None:
            self.sampling.stop()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.choice is not None:
            try:
                self.choice.driver.close()
            except Exception as exc:  # noqa: BLE001 (report, keep cleaning up)
                log.warning("could not remove the parent group: %s", exc)
            self.choice = None
        if self._ledger is not None:
            self._ledger.close()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def _prepare(self) -> None:
        report = sweep(self.spec.cgroup_root, self._ledger_dir, self.spec.proc_root)
        for entry in report.ended:
            log.warning("ended pid %d (%s) left by a supervisor that died", entry.pid, entry.what)
        self.warnings.extend(report.left)
        self.choice = open_driver(self.spec.cgroup_root, self.name, self.spec.proc_root)
        if self.choice.warning is not None:
            self.warnings.append(self.choice.warning)
        for warning in self.warnings:
            log.warning("%s", warning)
        # A short path: a unix socket path may not exceed 107 bytes. mkdtemp makes it ours,
        # 0700, under a name nobody could have taken first.
        self._socket_dir = Path(tempfile.mkdtemp(prefix="rightsizer-"))
        self._ledger = Ledger(self._ledger_dir, self.name)
        self.scheduler = Scheduler(self.spec, self.choice.driver, self._ledger, self._socket_dir)

    def _run(self) -> None:
        scheduler = self.scheduler
        assert scheduler is not None
        try:
            scheduler.launch(self._stop)
            self._ready.set()
            while not self._stop.wait(_TEND_INTERVAL):
                scheduler.tend()
        except BaseException as exc:  # noqa: BLE001 (handed to start() in the caller's thread)
            self._error = exc
        finally:
            scheduler.shutdown()
            self._ready.set()

    def _start_sampling(self) -> None:
        spec, scheduler = self.spec, self.scheduler
        assert scheduler is not None
        samplers: list[Sampler] = [TaskSampler(self, spec.cpu, spec.memory_mb, spec.service)]
        if scheduler.haproxy is not None:
            self.haproxy_sampler = HAProxySampler(
                scheduler.haproxy.api, self, BACKEND, spec.load_balancer
            )
            samplers.append(self.haproxy_sampler)
        haproxy = scheduler.haproxy
        samplers.append(
            MachineSampler(self, lambda: haproxy.pid if haproxy else None, service=spec.service)
        )
        self.sampling = SamplingLoop(samplers, spec.sample_interval, self.store)
        self.sampling.start()
        if self._with_control:
            recent = self.sampling.recent
            pods = PodCollector(self, self.pods())
            self.control = ControlServer(
                private_registry(recent, pods), lambda: self.status().to_json(), recent
            )
            self.control.start()

    # -- views (any thread) ----------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.scheduler is not None, "start() the fleet first"
        return self.scheduler.url

    @property
    def alive(self) -> bool:
        """True while the fleet's thread runs (it ends only through `stop()` or a fatal error)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def capped(self) -> bool:
        return self.choice is not None and self.choice.capped

    def running(self) -> list[TaskView]:
        """Tasks with a live process (the samplers' TaskSource)."""
        if self.scheduler is None:
            return []
        return [
            TaskView(str(t.id), t.group)
            for t in self.scheduler.tasks()
            if t.state is not TaskState.STOPPED
        ]

    def pods(self) -> FleetPods:
        """How /metrics shows the tasks as Kubernetes pods (rightsizer.metrics.kubernetes_series):
        the uploader's container is "uploader", any other command's "task"; limits if capped."""
        spec = self.spec
        uploader = spec.command[1:4] == uploader_command()[1:4]
        return FleetPods(
            UPLOADER_CONTAINER if uploader else OTHER_CONTAINER,
            cpu=spec.cpu if self.capped else None,
            memory_bytes=spec.memory_mb * 1024 * 1024 if self.capped else None,
        )

    def targets(self) -> dict[str, str]:
        """HAProxy server name -> the id of the task behind it (the HAProxy sampler's map)."""
        if self.scheduler is None:
            return {}
        return {server_name(t.slot): str(t.id) for t in self.scheduler.tasks()}

    def stopped_tasks(self) -> list[StoppedTask]:
        return list(self.scheduler.stopped) if self.scheduler else []

    def snapshot(self) -> FleetSnapshot:
        """What the status and state documents say of this fleet, taken now."""
        scheduler, choice, spec = self.scheduler, self.choice, self.spec
        proxy = scheduler.haproxy if scheduler is not None else None
        tasks = scheduler.tasks() if scheduler is not None else []
        return FleetSnapshot(
            started=scheduler is not None,
            url=scheduler.url if scheduler is not None else None,
            tasks=tuple(TaskFacts(t.id, t.pid, t.port, t.slot, t.state) for t in tasks),
            stopped=tuple(self.stopped_tasks()),
            capped=self.capped,
            cpu=spec.cpu,
            memory_mb=spec.memory_mb,
            service=spec.service,
            health_path=spec.health_path,
            recent=self.sampling.recent if self.sampling is not None else None,
            lb_stats=proxy.api.show_stat if proxy is not None else None,
            haproxy_pid=proxy.pid if proxy is not None else None,
            control_url=self.control.url if self.control else None,
            name=self.name,
            cgroup_version=choice.version.value if choice and choice.version else None,
            groups=tuple(str(p) for p in choice.driver.parent_dirs()) if choice else (),
            warnings=tuple(self.warnings),
            workdir=spec.workdir,
            lb_socket=proxy.config.socket if proxy is not None else None,
        )

    def status(self) -> FleetStatus:
        """The status: URL, healthy hosts, per task utilizations over the last seconds."""
        return status_view.status(self.snapshot())

    def state_document(self) -> dict[str, Any]:
        """What `--state-file` holds: enough to reach, watch and stop this fleet."""
        return status_view.state_document(self.snapshot(), haproxy_version(self.spec.haproxy))
