"""The hosts the tests across machines build are swept when the test process that built them is
gone (a crash, SIGKILL); those of a live test process are left alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.load.netns import PREFIX, Lan, ip, namespaces, sweep_stale


@pytest.mark.netns
def test_namespaces_of_a_dead_test_process_are_swept_and_live_ones_kept() -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = f"{PREFIX}{int(gone.stdout)}-w1"
    ip("netns", "add", stale)
    live = Lan.create(["w1"])
    try:
        removed = sweep_stale()
        assert stale in removed
        assert stale not in namespaces()
        assert set(live.all_namespaces) <= set(namespaces())
    finally:
        live.destroy()
        if stale in namespaces():
            ip("netns", "del", stale)
    assert not set(live.all_namespaces) & set(namespaces())
