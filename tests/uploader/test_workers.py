"""The database's worker threads: results and errors come back, a cancelled caller is harmless."""

from __future__ import annotations

import asyncio
import threading

import pytest

from rightsizer.uploader.workers import Workers


def test_results_and_errors_come_back_to_the_caller() -> None:
    workers = Workers(2)

    def fail() -> None:
        raise LookupError("from the thread")

    async def main() -> tuple[str, str]:
        name = await workers.run(lambda: threading.current_thread().name)
        with pytest.raises(LookupError, match="from the thread"):
            await workers.run(fail)
        return name, threading.current_thread().name

    try:
        worker, caller = asyncio.run(main())
    finally:
        assert workers.close(timeout=10)
    assert worker.startswith("uploader-db-") and worker != caller


def test_a_cancelled_caller_leaves_the_job_to_finish_and_the_pool_working() -> None:
    workers = Workers(1)
    release = threading.Event()
    finished = threading.Event()

    def slow() -> None:
        release.wait(30)
        finished.set()

    async def main() -> int:
        waiting = asyncio.ensure_future(workers.run(slow))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        return await workers.run(lambda: 7)  # queued behind `slow`, which runs to its end

    try:
        assert asyncio.run(main()) == 7
    finally:
        assert workers.close(timeout=10)
    assert finished.is_set()


def test_close_reports_a_thread_still_stuck() -> None:
    workers = Workers(1)
    release = threading.Event()
    started = threading.Event()

    def stuck() -> None:
        started.set()
        release.wait(30)

    async def main() -> None:
        job = asyncio.ensure_future(workers.run(stuck))
        await asyncio.to_thread(started.wait, 30)
        assert not workers.close(timeout=0)
        release.set()
        await job

    asyncio.run(main())
