"""Headless Chromium (Debian's `chromium`) as the tests start it: no sandbox, no GPU, no
network of its own, a profile in the test's directory."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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
