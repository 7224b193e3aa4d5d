"""A few threads that run blocking database work off the event loop, and a bound on waiting.

    workers = Workers(size=4)
    rows = await workers.run(db.run, work)     # the loop keeps serving while `work` blocks
    workers.close()                            # after the server has stopped

A stalled database (a lock held elsewhere, a server that stopped answering) then holds only
the requests that need it: the loop still streams bodies, answers /healthz, refuses bad
uploads. The pool is fixed and small: it bounds the connections one process opens (the
database's pool has room for exactly these threads) and the work waiting for them queues.

Hand-off is a C queue and one `call_soon_threadsafe` per call, no executor futures. On MariaDB
its cost is lost in the noise of bench/uploader.py; on SQLite it is not (database.py), so there
the app uses these threads only when a query would have to wait.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_Job = tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Callable[[], Any]]


class Workers:
    """`size` daemon threads taking jobs from one queue; started on first use."""

    def __init__(self, size: int, *, name: str = "uploader-db") -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self.size = size
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(*args, **kwargs)` on a worker thread and wait for its result.

        Cancelling the caller does not stop `fn` (a thread cannot be interrupted); its result
        is then dropped.
        """
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, lambda: fn(*args, **kwargs)))
        return await future

    def close(self, timeout: float | None = None) -> bool:
        """Let every thread finish its current job and end; True when all ended in `timeout`."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    def _start(self) -> None:
        with self._lock:
            if self._threads:
                return
            for index in range(self.size):
                thread = threading.Thread(
                    target=self._serve, name=f"{self._name}-{index}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, call = job
            try:
                result = call()
            except BaseException as exc:  # noqa: BLE001  (the awaiting request gets it)
                _deliver(loop, future, None, exc)
            else:
                _deliver(loop, future, result, None)


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    exc: BaseException | None,
) -> None:
    try:
        loop.call_soon_threadsafe(_settle, future, result, exc)
    except RuntimeError:  # the loop has closed: nobody is waiting any more
        return


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the request was cancelled (client gone, timeout) meanwhile
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
