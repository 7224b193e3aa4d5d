"""Headless Chromium (Debian's `chromium`) as the tests start it: no sandbox, no GPU, no
network of its own, a profile in the test's directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from tests.parts import CHROMIUM


def headless(work: Path) -> list[str]:
    """The command's start: Chromium with the flags every test uses, its profile under `work`."""
    assert CHROMIUM is not None, "chromium is required in CI"
    return [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={work / 'profile'}",
    ]


def run(command: list[str], timeout: float = 90) -> tuple[str, str]:
    """Run a Chromium command to its end; (stdout, stderr). In its own session, so a hung
    browser and every helper process it forked end together."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return stdout.decode(errors="replace"), stderr.decode(errors="replace")


def page_requests(netlog: Path) -> list[str]:
    """The URLs the page itself requested (not the browser), from a `--log-net-log` file."""
    if not netlog.is_file():
        return []
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job
        and "url" in event.get("params", {})
        and event["params"].get("initiator") != "not an origin"  # the page asked
    ]
