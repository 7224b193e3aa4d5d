"""A TCP proxy between the fleet's tasks and a MariaDB server, for db-latency and db-outage.

    proxy = DbProxy.start("mysql+pymysql://u:p@127.0.0.1:3306/uploader")
    proxy.url                  # the same URL on the proxy's port: the tasks' --db
    proxy.latency(0.2)         # every chunk a client sends waits 200 ms: + 200 ms a round trip
    proxy.outage()             # live connections dropped, new ones closed at once
    counters = proxy.normal()  # forward as before; what it did meanwhile
    proxy.close()              # also done by the kernel when we die (parent-death signal)

This kernel has no `netem` qdisc (`tc qdisc add ... netem`: "Specified qdisc kind is unknown"),
so the faults are played in a proxy of ours: a child process (`python -m
rightsizer.fault.db_proxy HOST PORT`) running an asyncio server on 127.0.0.1, port 0, which
prints `PORT n` and then takes one command a line on its stdin (`latency SECONDS`, `outage`,
`normal`), answering each with a JSON line of its counters. It is a process of its own because
the run's process runs Locust under gevent, whose patched threads would stall an asyncio loop.
Its stdin closing (we ended, however) ends it too. Latency is added in the client-to-server
direction, chunk by chunk and in order: one statement and its answer are one round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from rightsizer.errors import UnavailableError
from rightsizer.fleet.child import child_setup

MECHANISM = "tcp proxy"
MYSQL_PORT = 3306
CHUNK = 65536
START_TIMEOUT = 10.0


@dataclass
class _State:
    """The proxy's mode and counters (the child's)."""

    latency: float = 0.0
    down: bool = False
    connections: int = 0
    refused: int = 0
    dropped: int = 0
    delayed_chunks: int = 0
    live: set[asyncio.StreamWriter] = field(default_factory=set)

    def counters(self) -> dict[str, Any]:
        return {"latency": self.latency, "down": self.down, "connections": self.connections,
                "refused": self.refused, "dropped": self.dropped,
                "delayed_chunks": self.delayed_chunks}  # fmt: skip


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: _State, delay: bool
) -> None:
    try:
        while data := await reader.read(CHUNK):
            if delay and state.latency > 0:
                state.delayed_chunks += 1
                await asyncio.sleep(state.latency)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _serve(host: str, port: int) -> None:
    state = _State()
    loop = asyncio.get_running_loop()

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if state.down:
            state.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.transport.abort()
            return
        state.connections += 1
        state.live.update((writer, up_writer))
        try:
            await asyncio.gather(
                _pump(reader, up_writer, state, delay=True),
                _pump(up_reader, writer, state, delay=False),
            )
        except asyncio.CancelledError:
            pass  # the proxy ends with connections open: they end with it
        finally:
            state.live.difference_update((writer, up_writer))

    def command(line: str) -> dict[str, Any]:
        words = line.split()
        if words[:1] == ["latency"] and len(words) == 2:
            state.latency, state.down = float(words[1]), False
        elif words == ["outage"]:
            state.down = True
            state.dropped += len(state.live) // 2
            for writer in list(state.live):
                writer.transport.abort()
        elif words == ["normal"]:
            state.latency, state.down = 0.0, False
        return state.counters()  # any other line: the counters only

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    ended = asyncio.Event()

    async def apply(line: str) -> dict[str, Any]:
        return command(line)

    def commands() -> None:  # stdin, in a thread: EOF (our parent ended) ends the proxy
        for line in sys.stdin:
            done = asyncio.run_coroutine_threadsafe(apply(line), loop).result()
            print(json.dumps(done), flush=True)
        loop.call_soon_threadsafe(ended.set)

    threading.Thread(target=commands, daemon=True).start()
    async with server:
        await ended.wait()


class DbProxy:
    """The proxy child, driven from the run's process."""

    def __init__(self, process: subprocess.Popen[str], url: str, upstream: str) -> None:
        self.process = process
        self.url = url  # the server's URL on the proxy's address: what the tasks are given
        self.upstream = upstream  # the server's host:port
        parsed = make_url(url)
        self.address = f"{parsed.host}:{parsed.port}"

    @classmethod
    def start(cls, db_url: str) -> DbProxy:
        """A proxy in front of `db_url`'s server; UnavailableError when it is not MariaDB/MySQL
        or the proxy does not come up."""
        try:
            url = make_url(db_url)
        except ArgumentError:
            raise UnavailableError(f"--fault: {db_url!r} is not a database URL") from None
        if url.get_backend_name() not in ("mysql", "mariadb"):
            raise UnavailableError(
                f"--fault: the tcp proxy is for MariaDB; the database is {url.get_backend_name()}"
            )
        host, port = url.host or "127.0.0.1", url.port or MYSQL_PORT
        process = subprocess.Popen(
            [sys.executable, "-m", "rightsizer.fault.db_proxy", host, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=child_setup(),  # noqa: PLW1509 (dies with us; see fleet/child.py)
            start_new_session=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            process.kill()
            process.wait()
            raise UnavailableError("--fault: the database proxy did not start")
        proxied = url.set(host="127.0.0.1", port=int(line.split()[1]))
        return cls(process, proxied.render_as_string(hide_password=False), f"{host}:{port}")

    def _send(self, line: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        if self.process.poll() is not None:
            raise UnavailableError("the database proxy has ended")
        try:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
            answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        except (OSError, ValueError):
            raise UnavailableError("the database proxy has ended") from None
        return answer

    def counters(self) -> dict[str, Any]:
        """Its counters now (any other line only answers them)."""
        return self._send("counters")

    def latency(self, seconds: float) -> dict[str, Any]:
        return self._send(f"latency {seconds!r}")

    def outage(self) -> dict[str, Any]:
        return self._send("outage")

    def normal(self) -> dict[str, Any]:
        return self._send("normal")

    def close(self) -> None:
        """End the child (safe twice)."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                assert self.process.stdin is not None
                self.process.stdin.close()
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], int(sys.argv[2])))
