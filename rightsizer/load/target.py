"""What the load goes to: an existing host (`--host URL`) or a fleet this run starts and stops.

The fleet is `python -m rightsizer up ... --state-file RUN/fleet.json` in a subprocess of its own
session (a Ctrl-C in the terminal reaches this process only, which then stops the load first and
the fleet last). `up` writes the state file once its tasks are healthy:
{"url", "pid", "control_url", "tasks", "cgroup_version", "capped", "haproxy"}; it stops
everything on SIGTERM. This module is the only place that knows that contract.
"""

from __future__ import annotations

import http.client
import json
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

from rightsizer.config import Settings, env_name
from rightsizer.errors import UnavailableError, UsageError

FLEET_START_TIMEOUT = 90.0
FLEET_STOP_TIMEOUT = 30.0
HOST_CHECK_TIMEOUT = 5.0
STATE_FILE = "fleet.json"
FLEET_LOG = "fleet.log"
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
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                fleet_command(settings, run_dir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=fleet_environment(settings, dict(os.environ)),
                start_new_session=True,
            )
        target = cls("", process, {}, settings, log_path)
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
                raise UnavailableError(f"the fleet did not start: {_last_line(self.log_path)}")
            if time.monotonic() > deadline:
                raise UnavailableError(
                    f"the fleet was not healthy after {timeout:g} s; see {self.log_path}"
                )
            time.sleep(0.1)
        self.state = json.loads(state_path.read_text())
        self.url = str(self.state["url"]).rstrip("/")

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
        control = self.state.get("control_url")
        if not control:
            return None
        status = _get_json(str(control).rstrip("/") + "/status")
        if not isinstance(status, dict):
            return None
        values = [t.get("cpu_utilization") for t in status.get("tasks", [])]
        numbers = [float(v) for v in values if isinstance(v, int | float)]
        return sum(numbers) / len(numbers) if numbers else None

    def stop(self) -> None:
        """SIGTERM to the fleet's PID, then SIGKILL if it has not ended in time."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(FLEET_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _get_json(url: str, timeout: float = 1.0) -> Any:
    """The JSON document at an http URL, or None when it cannot be had quickly."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/")
        reply = connection.getresponse()
        return json.loads(reply.read()) if reply.status == 200 else None
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        connection.close()


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"it exited without a word (log: {path})"
