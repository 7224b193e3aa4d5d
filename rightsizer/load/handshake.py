"""The handshake between a Locust master and a rightsizer worker: same versions, same locustfile.

    identity = Identity.of(Path("locustfile.py"))     # on both sides
    reason = identity.mismatch(other)                  # None, or one line saying what differs

A worker (`python -m rightsizer.load.worker`, `rightsizer worker`) sends its `Identity` in a
`rightsizer_hello` message once Locust has connected it (Locust's custom messages, the channel
its workers and master already share). The master compares it with its own
(`HandshakeMaster`): the same rightsizer version, the same Locust major.minor (Locust's
worker protocol changes between minor releases), and the same locustfile bytes (a SHA-256).
A mismatch is refused in one line on both sides: the master says it, sends the worker a
`rightsizer_refused` message, and leaves the worker out of the run (its records are ignored);
the worker prints the reason and exits with code 2 (`install_worker`). Only accepted workers
count towards `--workers` and `--expect-workers`.

Nothing here imports Locust: the listeners need only the environment's runner and events.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from rightsizer import __version__

HELLO_MESSAGE = "rightsizer_hello"
REFUSED_MESSAGE = "rightsizer_refused"
REFUSED_EXIT = 2

logger = logging.getLogger(__name__)


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


@dataclass(frozen=True)
class Identity:
    """What a master and a worker must agree on."""

    rightsizer: str
    locust: str
    locustfile_sha256: str

    @classmethod
    def of(cls, locustfile: Path) -> Identity:
        """This process's versions and the digest of `locustfile`."""
        return cls(__version__, metadata.version("locust"), file_digest(locustfile))

    def to_json(self) -> dict[str, Any]:
        return {
            "rightsizer": self.rightsizer,
            "locust": self.locust,
            "locustfile_sha256": self.locustfile_sha256,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Identity:
        """ValueError for anything but the three strings `to_json` writes."""
        names = ("rightsizer", "locust", "locustfile_sha256")
        values = [raw.get(name) for name in names] if isinstance(raw, dict) else []
        strings = [value for value in values if isinstance(value, str)]
        if len(strings) != len(names):
            raise ValueError(f"a hello without {', '.join(names)} (another rightsizer version?)")
        return cls(*strings)

    def mismatch(self, worker: Identity) -> str | None:
        """One line saying how `worker` differs from this (the master's) identity, or None."""
        if worker.rightsizer != self.rightsizer:
            return f"rightsizer {worker.rightsizer} on the worker, {self.rightsizer} on the master"
        if _minor(worker.locust) != _minor(self.locust):
            return f"Locust {worker.locust} on the worker, {self.locust} on the master"
        if worker.locustfile_sha256 != self.locustfile_sha256:
            return (
                f"the locustfile differs (sha256 {worker.locustfile_sha256[:12]} on the worker, "
                f"{self.locustfile_sha256[:12]} on the master); give both the same -f file"
            )
        return None


class HandshakeMaster:
    """The master's side: checks every hello; `accepted` and `refused` (id: reason)."""

    def __init__(
        self, runner: Any, identity: Identity, note: Callable[[str], None] = logger.warning
    ) -> None:
        self.runner = runner
        self.identity = identity
        self.note = note
        self.accepted: set[str] = set()
        self.refused: dict[str, str] = {}
        runner.register_message(HELLO_MESSAGE, self._on_hello)

    def _on_hello(self, environment: Any, msg: Any, **_: Any) -> None:
        try:
            reason = self.identity.mismatch(Identity.from_json(msg.data))
        except ValueError as exc:
            reason = str(exc)
        if reason is None:
            self.accepted.add(msg.node_id)
            return
        self.refused[msg.node_id] = reason
        self.accepted.discard(msg.node_id)
        self.note(f"worker {msg.node_id} refused: {reason}")
        self.runner.send_message(REFUSED_MESSAGE, reason, client_id=msg.node_id)

    def ready(self) -> int:
        """Accepted workers Locust still counts as connected."""
        return sum(1 for node in self.runner.clients.all if node.id in self.accepted)


def install_worker(environment: Any, identity: Identity) -> None:
    """The worker's side: say hello now (Locust has connected this worker already); on a
    refusal, print it in one line, tell the master this worker stopped, and exit with 2."""
    runner = environment.runner
    import gevent  # noqa: PLC0415  # only inside a worker, where Locust has patched the process

    def on_refused(environment: Any, msg: Any, **_: Any) -> None:
        print(f"error: the master refused this worker: {msg.data}", file=sys.stderr, flush=True)
        environment.process_exit_code = REFUSED_EXIT
        runner.send_message("client_stopped", None)
        gevent.spawn(runner.quit)

    runner.register_message(REFUSED_MESSAGE, on_refused)
    runner.send_message(HELLO_MESSAGE, identity.to_json())
