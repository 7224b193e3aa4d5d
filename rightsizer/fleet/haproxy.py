"""The HAProxy process: start it on a port (a free one for port 0), stop it, ask its version.

HAProxy runs in the foreground (`-db`) as our direct child with the parent-death signal set, so
it ends with the supervisor. Port 0 means "any free port": we pick one and pass it on; when
another process takes it first (HAProxy exits with "cannot bind"), we pick another.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import time
from pathlib import Path

from rightsizer.errors import UnavailableError, UsageError
from rightsizer.fleet.child import child_setup
from rightsizer.fleet.environment import child_environment
from rightsizer.fleet.haproxy_config import LbConfig, render
from rightsizer.fleet.ports import free_port, is_listening
from rightsizer.fleet.stats_socket import StatsSocket
from rightsizer.process import stop_child, tail

HAPROXY = Path("/usr/sbin/haproxy")
_BIND_ATTEMPTS = 5


def version(binary: Path = HAPROXY) -> str | None:
    """`2.6.12-1+deb12u4`, or None when HAProxy is not installed."""
    try:
        text = subprocess.run(
            [str(binary), "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return None
    match = re.search(r"version (\S+)", text)
    return match.group(1) if match else None


class HAProxy:
    """A running HAProxy with its config, socket and log in `workdir`."""

    def __init__(self, process: subprocess.Popen[bytes], config: LbConfig, workdir: Path) -> None:
        self.process = process
        self.config = config
        self.workdir = workdir
        self.api = StatsSocket(config.socket)

    @property
    def port(self) -> int:
        return self.config.port

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    def start(
        cls, config: LbConfig, workdir: Path, binary: Path = HAPROXY, timeout: float = 10.0
    ) -> HAProxy:
        """Start and wait until it listens; with `config.port == 0`, on a free port."""
        if not binary.exists():
            raise UnavailableError(
                f"HAProxy not found at {binary}: install the haproxy package "
                "(or use --lb none with one task)"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(_BIND_ATTEMPTS):
            port = config.port or free_port()
            chosen = dataclasses.replace(config, port=port)
            started = cls._try_start(chosen, workdir, binary, timeout)
            if started is not None:
                return started
            if config.port:
                break
        raise UnavailableError(
            f"HAProxy did not start on port {config.port}: {tail(workdir / 'haproxy.log')}"
        )

    @classmethod
    def _try_start(
        cls, config: LbConfig, workdir: Path, binary: Path, timeout: float
    ) -> HAProxy | None:
        path = workdir / "haproxy.cfg"
        path.write_text(render(config))
        checked = subprocess.run(
            [str(binary), "-c", "-q", "-f", str(path)], capture_output=True, text=True, check=False
        )
        if checked.returncode != 0:
            raise UsageError(f"HAProxy rejects the configuration: {checked.stderr.strip()}")
        config.socket.unlink(missing_ok=True)
        with (workdir / "haproxy.log").open("wb") as log:
            process = subprocess.Popen(
                [str(binary), "-db", "-f", str(path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_environment(os.environ),  # without rightsizer's secrets
                preexec_fn=child_setup(),  # noqa: PLW1509 (dies with us; see child.py)
                start_new_session=True,
            )
        proxy = cls(process, config, workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return None  # most often: the port was taken between our pick and its bind
            if config.socket.exists() and is_listening(config.port):
                return proxy  # its socket: mode 600 in our own 0700 mkdtemp directory
            time.sleep(0.02)
        proxy.stop()
        raise UnavailableError(f"HAProxy did not listen on port {config.port} within {timeout}s")

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM (stop now: the tasks behind it are being stopped too), SIGKILL after `grace`."""
        stop_child(self.process, grace)
        self.config.socket.unlink(missing_ok=True)
