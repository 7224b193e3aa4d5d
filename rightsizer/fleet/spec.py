"""What a fleet is made of: task count, caps, command, ports, balancing; built from Settings.

spec = FleetSpec.from_settings(settings)           # the uploader, as `rightsizer up` runs it
spec = FleetSpec(tasks=2, command=("python", "app.py", "--port", "{port}"), workdir=tmp)
"""

from __future__ import annotations

import math
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from rightsizer.config import Settings
from rightsizer.errors import ConfigError, UsageError
from rightsizer.fleet.haproxy import HAPROXY
from rightsizer.fleet.state import supervisor_workdir
from rightsizer.metrics import names

PORT_PLACEHOLDER = "{port}"
_HEALTH_PATH = re.compile(r"/[A-Za-z0-9\-._~/%?=&+,;:@!*()]*")


class Balancing(Enum):
    """How HAProxy picks a task; NONE means no HAProxy (one task, its own URL)."""

    ROUNDROBIN = "roundrobin"
    LEASTCONN = "leastconn"
    NONE = "none"


def worker_count(cpu: float) -> int:
    """Uploader processes in a task of `cpu` vCPU (one Python process uses one core at most):
    one below a vCPU; from a vCPU up, one per vCPU rounded up and one more, so that a core stays
    busy while a worker waits on the database or the disk (1 -> 2, 1.5 -> 3, 2 -> 3, 4 -> 5)."""
    return 1 if cpu < 1 else math.ceil(cpu) + 1


def uploader_command(workers: int = 1) -> tuple[str, ...]:
    """The default task: the reference uploader on the task's port, in `workers` processes."""
    command = (
        sys.executable,
        "-m",
        "rightsizer",
        "serve",
        "--port",
        PORT_PLACEHOLDER,
        "--host",
        "127.0.0.1",
    )
    return (*command, "--workers", str(workers)) if workers > 1 else command


def parse_task_command(text: str, key: str = "--task-cmd") -> tuple[str, ...]:
    """Split a shell-like command; it must say where the port goes."""
    try:
        words = tuple(shlex.split(text))
    except ValueError as exc:
        raise ConfigError(key, f"cannot split the command ({exc})") from None
    if not words:
        raise ConfigError(key, "empty command")
    if not any(PORT_PLACEHOLDER in word for word in words):
        raise ConfigError(key, f"must contain {PORT_PLACEHOLDER} where the task's port goes")
    return words


def uploader_env(settings: Settings) -> dict[str, str]:
    """What an uploader task needs to see the same database and files as `reset` and `verify`."""
    return {
        "RIGHTSIZER_DB": settings.db,
        "RIGHTSIZER_DATA_DIR": str(settings.data_dir),
        "RIGHTSIZER_KEEPALIVE": f"{settings.keepalive:g}",
        "RIGHTSIZER_MAX_UPLOAD_MB": f"{settings.max_upload_mb:g}",
        "RIGHTSIZER_STATE_DIR": str(settings.state_dir),
    }


def check_health_path(path: str) -> str:
    """`path` when it can go as it is into a request line and HAProxy's configuration: '/' then
    ASCII letters, digits and `-._~/%?=&+,;:@!*()` (no space, quote, '#' or control character,
    which would end or change the line); ConfigError naming health_path if not."""
    if not _HEALTH_PATH.fullmatch(path):
        raise ConfigError(
            "health_path",
            f"expected a path such as /healthz (ASCII letters, digits and -._~/%?=&+,;:@!*() "
            f"after the first /; percent-encode anything else), got {path!r}",
        )
    return path


@dataclass(frozen=True)
class FleetSpec:
    """A fleet's whole definition; `workdir` holds logs and HAProxy's configuration."""

    workdir: Path
    tasks: int = 1
    cpu: float = 0.25
    memory_mb: int = 512
    command: tuple[str, ...] = field(default_factory=uploader_command)
    env: Mapping[str, str] = field(default_factory=dict)
    port: int = 0
    balancing: Balancing = Balancing.ROUNDROBIN
    keepalive: float = 75.0
    sample_interval: float = 1.0
    health_path: str = "/healthz"
    service: str = names.DEFAULT_SERVICE
    load_balancer: str = names.DEFAULT_LOAD_BALANCER
    cgroup_root: Path = Path("/sys/fs/cgroup")
    proc_root: Path = Path("/proc")
    haproxy: Path = HAPROXY
    startup_timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.balancing is Balancing.NONE and self.tasks != 1:
            raise UsageError(f"--lb none needs exactly one task (got --tasks {self.tasks})")
        if not any(PORT_PLACEHOLDER in word for word in self.command):
            raise ConfigError("--task-cmd", f"must contain {PORT_PLACEHOLDER}")
        check_health_path(self.health_path)

    @classmethod
    def from_settings(cls, settings: Settings, workdir: Path | None = None) -> FleetSpec:
        """The fleet `rightsizer up` runs; its files go to `workdir` (default: this process's
        own directory under the state dir, so that no two fleets share one)."""
        command = (
            parse_task_command(settings.task_cmd)
            if settings.task_cmd
            else uploader_command(worker_count(settings.cpu))
        )
        return cls(
            workdir=workdir or supervisor_workdir(settings.state_dir),
            tasks=settings.tasks,
            cpu=settings.cpu,
            memory_mb=settings.memory,
            command=command,
            env=uploader_env(settings),  # harmless to other commands, needed by the uploader
            port=settings.port,
            balancing=Balancing(settings.lb),
            keepalive=settings.keepalive,
            sample_interval=settings.sample_interval,
            health_path=settings.health_path,
            cgroup_root=settings.cgroup_root,
        )
