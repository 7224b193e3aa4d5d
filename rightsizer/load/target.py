"""What the load goes to: an existing host (`--host URL`) or a fleet this run starts and stops.

The fleet is `python -m rightsizer up ... --state-file RUN/fleet.json --workdir RUN/fleet` in a
subprocess of its own session (a Ctrl-C in the terminal reaches this process only, which then
stops the load first and the fleet last). `up` writes the state file once its tasks are healthy:
{"url", "pid", "control_url", "tasks", "cgroup_version", "capped", "haproxy"}; it stops
everything on SIGTERM, which it also gets (parent-death signal) if this process dies without
stopping it, so a crashed or SIGKILLed run leaves no fleet behind. Start it from the thread that
lives as long as the run (the main one): Linux sends that signal when the forking thread ends.
While load runs, the task CPU shown in the progress line comes from the supervisor's /samples
(the latest sampling tick, from memory): polling it adds no request to the tasks being measured.
This module is the only place that knows that contract.

On cgroup v2 the run first moves itself into a container of its own when its group holds it
alone (`rightsizer.cgroup.container`), so that the fleet it starts may cap its tasks.
"""

from __future__ import annotations

import http.client
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from rightsizer.cgroup.container import Container, enter_own, leave
from rightsizer.config import Settings, env_name
from rightsizer.errors import CgroupError, UnavailableError, UsageError
from rightsizer.fleet.child import child_setup
from rightsizer.fleet.control_server import SAMPLES_PATH, fetch_status, task_average
from rightsizer.fleet.state import STATE_FILE, read_state
from rightsizer.process import stop_child, tail

log = logging.getLogger("rightsizer.load")
FLEET_START_TIMEOUT = 90.0
FLEET_STOP_TIMEOUT = 30.0
HOST_CHECK_TIMEOUT = 5.0
SAMPLES_TIMEOUT = 1.0
FLEET_LOG = "fleet.log"
FLEET_DIR = "fleet"  # HAProxy's configuration and the task logs, inside the run directory
# Settings passed to `up` as flags; every other key goes through its RIGHTSIZER_* variable, so
# the tasks see the same database and data directory as `reset` and `verify` here.
_FLAG_KEYS = ("tasks", "cpu", "memory", "task_cmd", "port", "lb")


class Target(Protocol):
    """The system under load."""

    url: str

    def describe(self) -> dict[str, Any]:
        """JSON-ready facts for the manifest."""
        ...

    def task_cpu(self) -> float | None:
        """The tasks' average CPUUtilization now, in percent; None when unknown."""
        ...

    def stop(self) -> None:
        """Release what the run started (nothing for a host)."""
        ...


@dataclass
class HostTarget:
    """A target someone else runs; only its URL is known."""

    url: str

    @classmethod
    def check(cls, url: str, timeout: float = HOST_CHECK_TIMEOUT) -> HostTarget:
        """The target at `url`, after one request showed it answers HTTP; UsageError if not."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"--host: {url!r} is not an http(s) URL; give one like http://host:8080"
            )
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = kind(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request("GET", parts.path or "/")
            connection.getresponse().read()
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise UsageError(
                f"--host: cannot reach {url} ({reason}); start the service or fix the URL"
            ) from None
        finally:
            connection.close()
        return cls(url.rstrip("/"))

    def describe(self) -> dict[str, Any]:
        return {"kind": "host", "url": self.url}

    def task_cpu(self) -> float | None:
        return None

    def stop(self) -> None:
        return None


def fleet_environment(settings: Settings, base: dict[str, str]) -> dict[str, str]:
    """`base` plus a RIGHTSIZER_* variable for every resolved setting not passed as a flag."""
    env = dict(base)
    for key, value in settings.as_dict().items():
        if key not in _FLAG_KEYS and value is not None:
            env[env_name(key)] = str(value)
    return env


def fleet_command(settings: Settings, run_dir: Path) -> list[str]:
    """The `rightsizer up` command line for these settings, writing into `run_dir`."""
    command = [sys.executable, "-m", "rightsizer", "up"]
    command += ["--tasks", str(settings.tasks), "--cpu", str(settings.cpu)]
    command += ["--memory", str(settings.memory), "--port", str(settings.port), "--lb", settings.lb]
    if settings.task_cmd:
        command += ["--task-cmd", settings.task_cmd]
    command += ["--metrics-db", str(run_dir / "metrics.db")]
    command += ["--workdir", str(run_dir / FLEET_DIR)]
    command += ["--state-file", str(run_dir / STATE_FILE)]
    return command


@dataclass
class FleetTarget:
    """A fleet started by this run; `stop()` ends it by its PID."""

    url: str
    process: subprocess.Popen[bytes]
    state: dict[str, Any]
    settings: Settings
    log_path: Path
    container: Container | None = None
    _stopped: bool = field(default=False, repr=False)

    @classmethod
    def start(
        cls,
        settings: Settings,
        run_dir: Path,
        timeout: float = FLEET_START_TIMEOUT,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> FleetTarget:
        """Start `up` and wait for its state file; UnavailableError with its last words if it
        exits or is not healthy within `timeout` seconds; KeyboardInterrupt (the fleet
        stopped) as soon as `cancelled()` says so."""
        state_path, log_path = run_dir / STATE_FILE, run_dir / FLEET_LOG
        container = enter_own(settings.cgroup_root)
        try:
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    fleet_command(settings, run_dir),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=fleet_environment(settings, dict(os.environ)),
                    # SIGTERM, not SIGKILL: the supervisor then removes its groups itself.
                    preexec_fn=child_setup(death_signal=signal.SIGTERM),  # noqa: PLW1509
                    start_new_session=True,
                )
        except BaseException:
            _leave(container)
            raise
        target = cls("", process, {}, settings, log_path, container)
        try:
            target._wait_for(state_path, timeout, cancelled)
        except BaseException:  # Ctrl-C included: never leave a fleet behind
            target.stop()
            raise
        return target

    def _wait_for(self, state_path: Path, timeout: float, cancelled: Callable[[], bool]) -> None:
        deadline = time.monotonic() + timeout
        while not state_path.is_file():
            if cancelled():
                raise KeyboardInterrupt
            if self.process.poll() is not None:
                raise UnavailableError(f"the fleet did not start: {_last_words(self.log_path)}")
            if time.monotonic() > deadline:
                raise UnavailableError(
                    f"the fleet was not healthy after {timeout:g} s; see {self.log_path}"
                )
            time.sleep(0.1)
        state = read_state(state_path)
        if state is None or not isinstance(state.get("url"), str):
            raise UnavailableError(f"the fleet's state file {state_path} is unreadable")
        self.state = state
        self.url = state["url"].rstrip("/")

    @property
    def control_url(self) -> str | None:
        """The supervisor's control server (status, samples, Prometheus metrics)."""
        url = self.state.get("control_url")
        return url if isinstance(url, str) else None

    @property
    def balanced(self) -> bool:
        """Whether HAProxy runs in front of the tasks."""
        return self.state.get("haproxy_pid") is not None

    def describe(self) -> dict[str, Any]:
        s = self.settings
        return {
            "kind": "fleet",
            "url": self.url,
            "tasks": s.tasks,
            "cpu": s.cpu,
            "memory": s.memory,
            "task_cmd": s.task_cmd,
            "lb": s.lb,
            "cgroup_version": self.state.get("cgroup_version"),
            "capped": self.state.get("capped"),
            "haproxy": self.state.get("haproxy"),
            "task_list": self.state.get("tasks"),
        }

    def task_cpu(self) -> float | None:
        """The tasks' mean CPUUtilization at the supervisor's latest sampling tick."""
        control = self.control_url
        if control is None:
            return None
        try:
            latest = fetch_status(control, SAMPLES_TIMEOUT, SAMPLES_PATH)
        except UnavailableError:
            return None
        return task_average(latest)

    def stop(self) -> None:
        """SIGTERM to the fleet's PID, then SIGKILL if it has not ended in time."""
        if self._stopped:
            return
        self._stopped = True
        stop_child(self.process, FLEET_STOP_TIMEOUT)
        container, self.container = self.container, None
        _leave(container)


def _leave(container: Container | None) -> None:
    """Back to our own group (v2), once the fleet is gone; a failure costs nothing but a note."""
    if container is None:
        return
    try:
        leave(container)
    except CgroupError as exc:
        log.warning("%s", exc)


def _last_words(path: Path) -> str:
    words = tail(path, 1)
    return words if words != "(no output)" else f"it exited without a word (log: {path})"
