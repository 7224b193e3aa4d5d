"""The service scheduler: keep N tasks running behind HAProxy, as the ECS scheduler does.

Each task occupies a slot, which is one HAProxy server (`t<slot>`). When a task ends (it exited,
or the kernel killed it at its memory limit), its server is put in maintenance at once, the exit
is recorded, and a replacement starts on a fresh port; once it answers its health check the
server is pointed at it through the runtime API and made ready again, without a reload.

Every child process is started from the one thread that calls `launch` and `tend` (the fleet's
thread): the parent-death signal is tied to the thread that forked.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rightsizer.cgroup.driver import ManagedDriver
from rightsizer.errors import CgroupError, RightsizerError, UnavailableError, UsageError
from rightsizer.fleet.environment import child_environment
from rightsizer.fleet.haproxy import HAProxy
from rightsizer.fleet.haproxy_config import BACKEND, LbConfig, server_name
from rightsizer.fleet.health import probe
from rightsizer.fleet.ledger import Ledger
from rightsizer.fleet.ports import free_port
from rightsizer.fleet.spec import Balancing, FleetSpec
from rightsizer.fleet.task import Task, TaskExit, TaskState
from rightsizer.process import tail

log = logging.getLogger("rightsizer.fleet")
START_ATTEMPTS = 3


@dataclass(frozen=True)
class StoppedTask:
    """A task that ended, with ECS's kind of reason."""

    id: int
    slot: int
    pid: int
    port: int
    exit_code: int
    reason: str
    oom: bool
    started_at: float
    stopped_at: float


class Scheduler:
    """Owns the task processes and HAProxy; used from the fleet's thread only (reads: any)."""

    def __init__(
        self, spec: FleetSpec, driver: ManagedDriver, ledger: Ledger, socket_dir: Path
    ) -> None:
        self.spec = spec
        self._driver = driver
        self._ledger = ledger
        self._socket = socket_dir / "haproxy.sock"
        self._env = child_environment(os.environ, spec.env)  # without our secrets
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._slots: dict[int, Task | None] = {}
        self._respawn_at: dict[int, float] = {}
        self._failures: dict[int, int] = {}
        self._fixed_port = spec.port if spec.balancing is Balancing.NONE else 0
        self.stopped: list[StoppedTask] = []
        self.haproxy: HAProxy | None = None

    # -- reading (any thread) --------------------------------------------------------------

    def tasks(self) -> list[Task]:
        with self._lock:
            return [t for t in self._slots.values() if t is not None]

    @property
    def url(self) -> str:
        if self.haproxy is not None:
            return f"http://127.0.0.1:{self.haproxy.port}"
        task = self._slots.get(1)
        return f"http://127.0.0.1:{task.port if task else self._fixed_port}"

    # -- the fleet's thread ----------------------------------------------------------------

    def launch(self, stop: threading.Event) -> None:
        """Start every task, wait until all are healthy, then start HAProxy in front."""
        for slot in range(1, self.spec.tasks + 1):
            self._spawn(slot)
        deadline = time.monotonic() + self.spec.startup_timeout
        while not stop.is_set():
            for task in self.tasks():
                if task.state is TaskState.STARTING:
                    self._check_starting(task, during_launch=True)
            if all(t.state is TaskState.RUNNING for t in self.tasks()):
                break
            if time.monotonic() > deadline:
                raise UnavailableError(self._not_healthy_message())
            time.sleep(0.05)
        if stop.is_set() or self.spec.balancing is Balancing.NONE:
            return
        servers = tuple((server_name(t.slot), t.port) for t in self.tasks())
        config = LbConfig(
            port=self.spec.port,
            servers=servers,
            socket=self._socket,
            algorithm=self.spec.balancing.value,
            health_path=self.spec.health_path,
            keepalive=self.spec.keepalive,
        )
        self.haproxy = HAProxy.start(config, self.spec.workdir, self.spec.haproxy)
        self._ledger.record(self.haproxy.pid, "haproxy")

    def tend(self) -> None:
        """One pass: notice ended tasks, promote healthy replacements, start due ones."""
        now = time.monotonic()
        for slot, task in list(self._slots.items()):
            try:
                if task is None:
                    if now >= self._respawn_at.get(slot, 0.0):
                        self._spawn(slot)
                elif task.state is TaskState.STARTING:
                    self._check_starting(task, during_launch=False)
                elif task.poll() is not None:
                    self._retire(task)
            except (RightsizerError, OSError) as exc:
                log.warning("slot %d: %s", slot, exc)

    def shutdown(self) -> None:
        """HAProxy first (no new requests), then every task at once, then their groups."""
        if self.haproxy is not None:
            self.haproxy.stop()
            self._ledger.forget(self.haproxy.pid)
        tasks = self.tasks()
        for task in tasks:
            task.terminate()
        for task in tasks:
            task.stop()
            self._cleanup(task)
        with self._lock:
            self._slots = dict.fromkeys(self._slots)

    # -- internals -------------------------------------------------------------------------

    def _spawn(self, slot: int) -> Task:
        task_id = next(self._ids)
        spec = self.spec
        port = self._fixed_port or free_port()
        group = self._driver.create(f"task-{task_id}", spec.cpu, spec.memory_mb)
        try:
            task = Task.start(
                task_id,
                slot,
                port,
                spec.command,
                group=group,
                env=self._env,
                log_path=spec.workdir / "logs" / f"task-{task_id}.log",
            )
        except OSError as exc:
            group.remove()
            raise UsageError(f"--task-cmd: cannot start {spec.command[0]!r} ({exc})") from None
        self._ledger.record(task.pid, f"task {task_id}")
        if self._fixed_port == 0 and spec.balancing is Balancing.NONE:
            self._fixed_port = port  # with no balancer the task's URL is the fleet's URL
        with self._lock:
            self._slots[slot] = task
        log.info("task %d starting in slot %d on port %d (pid %d)", task_id, slot, port, task.pid)
        return task

    def _check_starting(self, task: Task, during_launch: bool) -> None:
        ended = task.poll()
        if ended is not None:
            self._failures[task.slot] = self._failures.get(task.slot, 0) + 1
            if during_launch and self._failures[task.slot] >= START_ATTEMPTS:
                raise UnavailableError(
                    f"task {task.id} exited while starting: {ended.reason}; "
                    f"its output ends with: {tail(self._log_path(task), 6)}"
                )
            self._retire(task)
            if during_launch:
                self._spawn(task.slot)
        elif probe(task.port, self.spec.health_path, timeout=0.5):
            self._promote(task)
        elif not during_launch and time.time() - task.started_at > self.spec.startup_timeout:
            log.warning(
                "task %d not healthy after %.0fs; stopping it",
                task.id,
                time.time() - task.started_at,
            )
            task.stop()
            self._retire(task)

    def _promote(self, task: Task) -> None:
        task.state = TaskState.RUNNING
        self._failures[task.slot] = 0
        if self.haproxy is not None:
            api, server = self.haproxy.api, server_name(task.slot)
            api.set_server_address(BACKEND, server, task.port)
            api.set_server_state(BACKEND, server, "ready")
            api.set_server_health(BACKEND, server, "up")
        log.info("task %d healthy on port %d", task.id, task.port)

    def _retire(self, task: Task) -> None:
        """Record how the task ended, take it out of rotation, schedule its replacement."""
        ended: TaskExit | None = task.poll()
        assert ended is not None
        if self.haproxy is not None:
            self.haproxy.api.set_server_state(BACKEND, server_name(task.slot), "maint")
        self.stopped.append(
            StoppedTask(
                task.id,
                task.slot,
                task.pid,
                task.port,
                ended.exit_code,
                ended.reason,
                ended.oom,
                task.started_at,
                ended.at,
            )
        )
        log.warning("task %d stopped: %s", task.id, ended.reason)
        self._cleanup(task)
        failures = self._failures.get(task.slot, 0)
        delay = 0.0 if failures <= 1 else min(30.0, 0.5 * 2 ** (failures - 1))
        with self._lock:
            self._slots[task.slot] = None
        self._respawn_at[task.slot] = time.monotonic() + delay

    def _cleanup(self, task: Task) -> None:
        task.stop()
        self._ledger.forget(task.pid)
        try:
            task.remove_group()
        except CgroupError as exc:
            log.warning("task %d: %s", task.id, exc)

    def _log_path(self, task: Task) -> Path:
        return self.spec.workdir / "logs" / f"task-{task.id}.log"

    def _not_healthy_message(self) -> str:
        waiting = [t for t in self.tasks() if t.state is not TaskState.RUNNING]
        task = waiting[0]
        return (
            f"task {task.id} did not answer 200 on GET {self.spec.health_path} (port {task.port}) "
            f"within {self.spec.startup_timeout:g}s; its output ends with: "
            f"{tail(self._log_path(task), 6)}"
        )
