"""Hosts on one machine for tests of load across machines: network namespaces on a bridge.

    lan = Lan.create(["master", "w1", "w2", "target"])   # 10.213.0.1 .. 10.213.0.4
    process = lan.popen("w1", [sys.executable, ...])       # runs inside w1's namespace
    lan.destroy()                                           # processes ended, namespaces gone

Every namespace is named `rightsizer-test-<pid>-<host>` (pid: the test process). A seventh
namespace of the same name pattern (`-lan`) holds a Linux bridge; each host has one veth pair,
`eth0` inside the host, its peer on the bridge. The network is closed: nothing is routed to or
from the machine's own namespace, so the addresses (10.213.0.0/24) cannot clash with anything.
`sweep_stale()` removes what an earlier test process that died left: namespaces of our pattern
whose pid is not alive, after ending the processes still inside them (ours: only our tests
start processes there).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

PREFIX = "rightsizer-test-"
SUBNET = "10.213.0"
BRIDGE = "br0"
_OURS = re.compile(rf"^{re.escape(PREFIX)}(\d+)-[a-z0-9]+$")


def ip(*args: str) -> str:
    """`ip ARGS`; CalledProcessError (with stderr) when it fails."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=True, timeout=30)
    return done.stdout


def namespaces() -> list[str]:
    """Every network namespace's name on this machine."""
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()]


def pids_in(namespace: str) -> list[int]:
    """The processes inside `namespace` (`ip netns pids`)."""
    try:
        text = ip("netns", "pids", namespace)
    except subprocess.CalledProcessError:
        return []
    return [int(word) for word in text.split()]


def _end(pids: Sequence[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).wait(10)


def _remove(namespace: str) -> None:
    _end(pids_in(namespace))
    with contextlib.suppress(subprocess.CalledProcessError):
        ip("netns", "del", namespace)


def sweep_stale() -> list[str]:
    """Remove the namespaces of test processes that are gone; the names removed."""
    removed = []
    for name in namespaces():
        match = _OURS.match(name)
        if match and not psutil.pid_exists(int(match.group(1))):
            _remove(name)
            removed.append(name)
    return removed


def can_create() -> str | None:
    """Why this machine cannot build the hosts (not root, no `ip`, no netns), or None."""
    if os.geteuid() != 0:
        return "netns: needs root (ip netns add)"
    probe = f"{PREFIX}{os.getpid()}-probe"
    try:
        ip("netns", "add", probe)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"netns: cannot create a network namespace ({exc})"
    _remove(probe)
    return None


@dataclass
class Lan:
    """Hosts, each a namespace with one address, on one bridge."""

    tag: str
    addresses: dict[str, str] = field(default_factory=dict)  # host: IPv4 address
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)

    @classmethod
    def create(cls, hosts: Sequence[str]) -> Lan:
        lan = cls(f"{PREFIX}{os.getpid()}")
        try:
            lan._build(hosts)
        except BaseException:
            lan.destroy()
            raise
        return lan

    def namespace(self, host: str) -> str:
        return f"{self.tag}-{host}"

    @property
    def all_namespaces(self) -> list[str]:
        return [self.namespace("lan"), *(self.namespace(h) for h in self.addresses)]

    def _build(self, hosts: Sequence[str]) -> None:
        hub = self.namespace("lan")
        ip("netns", "add", hub)
        ip("-n", hub, "link", "add", BRIDGE, "type", "bridge")
        ip("-n", hub, "link", "set", BRIDGE, "up")
        for number, host in enumerate(hosts, start=1):
            name = self.namespace(host)
            self.addresses[host] = f"{SUBNET}.{number}"
            ip("netns", "add", name)
            ip("link", "add", "eth0", "netns", name, "type", "veth", "peer", "name", f"p-{host}",
               "netns", hub)  # fmt: skip
            ip("-n", hub, "link", "set", f"p-{host}", "master", BRIDGE)
            ip("-n", hub, "link", "set", f"p-{host}", "up")
            ip("-n", name, "addr", "add", f"{self.addresses[host]}/24", "dev", "eth0")
            ip("-n", name, "link", "set", "eth0", "up")
            ip("-n", name, "link", "set", "lo", "up")

    def command(self, host: str, argv: Sequence[str]) -> list[str]:
        """`argv` run inside `host` (ip netns exec execs it: the PID is argv's own)."""
        return ["ip", "netns", "exec", self.namespace(host), *argv]

    def popen(
        self, host: str, argv: Sequence[str], log: Path, **kwargs: Any
    ) -> subprocess.Popen[Any]:
        with log.open("wb") as out:
            process = subprocess.Popen(
                self.command(host, argv), stdout=out, stderr=subprocess.STDOUT, **kwargs
            )
        self.processes.append(process)
        return process

    def run(self, host: str, argv: Sequence[str]) -> str:
        done = subprocess.run(
            self.command(host, argv), capture_output=True, text=True, check=True, timeout=30
        )
        return done.stdout

    def listening(self, host: str) -> list[str]:
        """The TCP sockets listening inside `host` (`ss -Htln`)."""
        return [line for line in self.run(host, ["ss", "-Htln"]).splitlines() if line.strip()]

    def leftovers(self) -> dict[str, list[int]]:
        """Processes still inside each namespace, by namespace (empty lists left out)."""
        found = {name: pids_in(name) for name in self.all_namespaces}
        return {name: pids for name, pids in found.items() if pids}

    def destroy(self) -> None:
        """End what runs inside (our processes, by PID), then remove every namespace."""
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(10)
        existing = set(namespaces())
        for name in [n for n in self.all_namespaces if n in existing]:
            _remove(name)
