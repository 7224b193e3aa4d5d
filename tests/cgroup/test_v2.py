"""cgroup v2 against a fixture tree: what we write, what we read, what we remove."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rightsizer.cgroup.driver import open_driver
from rightsizer.cgroup.hierarchy import CgroupVersion
from rightsizer.cgroup.v2 import V2Group


def test_groups_are_nested_capped_read_and_removed(fixture_tree: Callable[[str], Path]) -> None:
    root = fixture_tree("v2")
    own = root / "sys/fs/cgroup/user.slice/app.scope"
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-1", root / "proc", 4242)
    assert choice.capped and choice.version is CgroupVersion.V2
    parent = own / "rightsizer-4242-1"
    # cpu and memory handed down to our parent and from it to the task groups.
    assert set((own / "cgroup.subtree_control").read_text().split()) == {"+cpu", "+memory"}
    assert set((parent / "cgroup.subtree_control").read_text().split()) == {"+cpu", "+memory"}

    group = choice.driver.create("task-1", 0.25, 512)
    assert isinstance(group, V2Group)
    assert group.path == parent / "task-1"
    assert (group.path / "cpu.max").read_text() == "25000 100000"
    assert (group.path / "memory.max").read_text() == str(512 * 1024 * 1024)
    assert group.procs_files() == (group.path / "cgroup.procs",)

    # What the kernel would show after some work:
    (group.path / "cpu.stat").write_text(
        "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n"
        "nr_periods 40\nnr_throttled 7\nthrottled_usec 90000\n"
    )
    (group.path / "memory.stat").write_text(
        "anon 10485760\nfile 2097152\nkernel 4096\ninactive_file 1048576\n"
    )
    (group.path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (group.path / "cgroup.procs").write_text("501\n502\n")
    assert group.usage_ns() == 1_500_000_000
    assert group.throttled() == 7
    assert (group.memory().rss, group.memory().cache) == (10485760, 2097152)
    assert group.memory().in_use == 10485760 + 2097152 - 1048576
    assert group.oom_kills() == 1
    assert group.pids() == [501, 502]

    group.remove()
    choice.driver.close()
    assert not parent.exists()
    assert own.exists()


def test_controllers_already_enabled_are_not_written_again(
    fixture_tree: Callable[[str], Path],
) -> None:
    root = fixture_tree("v2")
    own = root / "sys/fs/cgroup/user.slice/app.scope"
    (own / "cgroup.subtree_control").write_text("cpu memory pids\n")
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-2", root / "proc", 4242)
    assert choice.capped
    assert (own / "cgroup.subtree_control").read_text() == "cpu memory pids\n"
    choice.driver.close()


def test_swap_is_closed_when_the_kernel_offers_it(fixture_tree: Callable[[str], Path]) -> None:
    root = fixture_tree("v2")
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-3", root / "proc", 4242)
    task_dir = root / "sys/fs/cgroup/user.slice/app.scope/rightsizer-4242-3/task-9"
    task_dir.mkdir()
    (task_dir / "memory.swap.max").write_text("max\n")
    group = choice.driver.create("task-9", 1.5, 64)
    assert (task_dir / "memory.swap.max").read_text() == "0"
    assert (task_dir / "cpu.max").read_text() == "150000 100000"
    group.remove()
    choice.driver.close()
