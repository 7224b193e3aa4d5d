"""cgroup v1: against a fixture tree, and on this machine's real tree."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rightsizer.cgroup.driver import ManagedDriver, open_driver
from rightsizer.cgroup.v1 import V1Group
from rightsizer.fleet.child import child_setup
from tests.waiting import poll_until


def test_fixture_groups_get_quota_limit_and_readings(fixture_tree: Callable[[str], Path]) -> None:
    root = fixture_tree("v1-nested")
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-77-1", root / "proc", 77)
    assert choice.capped
    group = choice.driver.create("task-2", 0.5, 256)
    assert isinstance(group, V1Group)
    joint = root / "sys/fs/cgroup/cpu,cpuacct/ctr/rightsizer-77-1/task-2"
    memory = root / "sys/fs/cgroup/memory/ctr/rightsizer-77-1/task-2"
    assert group.dirs() == (joint, memory)  # cpu and cpuacct share one directory
    assert (joint / "cpu.cfs_quota_us").read_text() == "50000"
    assert (joint / "cpu.cfs_period_us").read_text() == "100000"
    assert (memory / "memory.limit_in_bytes").read_text() == str(256 * 1024 * 1024)

    (joint / "cpuacct.usage").write_text("123456789\n")
    (joint / "cpu.stat").write_text("nr_periods 10\nnr_throttled 4\nthrottled_time 5\n")
    (memory / "memory.stat").write_text(
        "cache 100\nrss 200\ninactive_file 50\ntotal_cache 1000\ntotal_rss 2000\n"
        "total_inactive_file 600\n"
    )
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert group.usage_ns() == 123456789
    assert group.throttled() == 4
    assert (group.memory().rss, group.memory().cache) == (2000, 1000)
    assert group.memory().in_use == 2000 + 1000 - 600  # the inactive page cache is not held
    assert group.oom_kills() == 2
    group.remove()
    choice.driver.close()
    assert not (root / "sys/fs/cgroup/memory/ctr/rightsizer-77-1").exists()


@pytest.mark.cgroups
def test_real_group_caps_cpu_and_counts_usage(real_driver: ManagedDriver) -> None:
    group = real_driver.create("task-1", 0.2, 64)
    assert isinstance(group, V1Group)
    assert (group.cpu_dir / "cpu.cfs_quota_us").read_text().strip() == "20000"
    assert (group.memory_dir / "memory.limit_in_bytes").read_text().strip() == str(64 << 20)
    spin = "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass\n"
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", spin],
        preexec_fn=child_setup(group.procs_files()),  # noqa: PLW1509 (joins before exec)
    )
    try:
        poll_until(lambda: process.pid in group.pids() or process.poll() is not None, 10)
        assert process.pid in group.pids()
        process.wait(timeout=10)
        wall = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    used = group.usage_ns() / 1e9
    # A busy loop wants a whole core; the quota allows 0.2 of one (+ one period of slack).
    assert 0.05 < used <= 0.2 * wall * 1.05 + 0.02
    assert group.throttled() > 0
    assert group.pids() == []
    group.remove()
    assert not group.cpu_dir.exists()
