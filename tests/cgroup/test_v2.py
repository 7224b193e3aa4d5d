"""cgroup v2 against fixture trees: where groups go, what we write, what we put back.

The fixture's own group (`user.slice/app.scope`) holds process 4242 alone, with cpu and memory
available but not handed down (as `systemd-run --scope -p Delegate=yes` leaves it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rightsizer.cgroup.container import enter_own, leave
from rightsizer.cgroup.driver import open_driver
from rightsizer.cgroup.hierarchy import UNIFIED, CgroupVersion, detect
from rightsizer.cgroup.v2 import V2Group

OWN = "sys/fs/cgroup/user.slice/app.scope"


def _words(path: Path) -> set[str]:
    return set(path.read_text().split())


def _snapshot(root: Path) -> dict[str, str]:
    """Every directory and file below `root` with its contents."""
    return {
        str(p.relative_to(root)): p.read_text() if p.is_file() else "<dir>"
        for p in sorted(root.rglob("*"))
    }


def test_our_process_moves_to_a_leaf_and_groups_go_beside_it(
    fixture_tree: Callable[[str], Path],
) -> None:
    root = fixture_tree("v2")
    own = root / OWN
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-1", root / "proc", 4242)
    assert choice.capped and choice.version is CgroupVersion.V2
    box, leaf = own / "rightsizer-4242", own / "rightsizer-4242" / "supervisor"
    assert (leaf / "cgroup.procs").read_text() == "4242"  # only our own process moved
    (own / "cgroup.procs").write_text("")  # as the kernel shows it after the move
    # Handed down: by the group we left (now empty), the container, the fleet's parent.
    assert _words(own / "cgroup.subtree_control") == {"+cpu", "+memory"}
    assert _words(box / "cgroup.subtree_control") == {"+cpu", "+memory"}
    parent = box / "rightsizer-4242-1"
    assert choice.driver.parent_dirs() == (parent,)
    assert _words(parent / "cgroup.subtree_control") == {"+cpu", "+memory"}

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
    # Put back: controllers off again, our process back home, container and leaf gone.
    assert not box.exists()
    assert (own / "cgroup.subtree_control").read_text() == "-cpu -memory"
    assert (own / "cgroup.procs").read_text() == "4242"


def test_a_group_with_other_processes_is_left_untouched_with_advice(
    fixture_tree: Callable[[str], Path],
) -> None:
    root = fixture_tree("v2")
    (root / OWN / "cgroup.procs").write_text("4242\n4300\n777\n")
    before = _snapshot(root / "sys")
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-1", root / "proc", 4242)
    assert not choice.capped
    assert choice.warning is not None and choice.warning.count("UNCAPPED") == 1
    assert "holds processes other than this one (pids 4300, 777)" in choice.warning
    assert "systemd-run --user --scope -p Delegate=yes rightsizer" in choice.warning
    assert "against the reservation" in choice.warning
    assert _snapshot(root / "sys") == before  # not one file written, not one group made


def test_controllers_not_delegated_are_named(fixture_tree: Callable[[str], Path]) -> None:
    root = fixture_tree("v2")
    (root / OWN / "cgroup.controllers").write_text("memory pids\n")
    before = _snapshot(root / "sys")
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-1", root / "proc", 4242)
    assert not choice.capped and choice.warning is not None
    assert f"the cpu controller is not delegated to {root / OWN}" in choice.warning
    assert _snapshot(root / "sys") == before


def test_a_group_that_hands_cpu_and_memory_down_is_used_as_it_is(
    fixture_tree: Callable[[str], Path],
) -> None:
    # The root group (exempt from the no-internal-process rule) looks like this.
    root = fixture_tree("v2")
    own = root / OWN
    (own / "cgroup.subtree_control").write_text("cpu memory pids\n")
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-2", root / "proc", 4242)
    assert choice.capped
    assert choice.driver.parent_dirs() == (own / "rightsizer-4242-2",)
    assert (own / "cgroup.subtree_control").read_text() == "cpu memory pids\n"
    assert (own / "cgroup.procs").read_text() == "4242\n"  # nothing moved
    choice.driver.close()
    assert not (own / "rightsizer-4242-2").exists()
    assert (own / "cgroup.subtree_control").read_text() == "cpu memory pids\n"


def test_a_child_of_a_contained_rightsizer_nests_in_its_container(
    fixture_tree: Callable[[str], Path],
) -> None:
    # `rightsizer run` (pid 77) entered its container; the `up` it started (4242) is in the leaf.
    root = fixture_tree("v2")
    own = root / OWN
    box = own / "rightsizer-77"
    (box / "supervisor").mkdir(parents=True)
    (box / "cgroup.subtree_control").write_text("cpu memory\n")
    (box / "supervisor" / "cgroup.procs").write_text("77\n4242\n")
    (root / "proc/4242/cgroup").write_text("0::/user.slice/app.scope/rightsizer-77/supervisor\n")
    hierarchy = detect(root / "sys/fs/cgroup", root / "proc", 4242)
    assert hierarchy.dirs == {UNIFIED: box}
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-1", root / "proc", 4242)
    assert choice.capped
    assert choice.driver.parent_dirs() == (box / "rightsizer-4242-1",)
    choice.driver.close()
    assert not (box / "rightsizer-4242-1").exists()
    assert (box / "supervisor" / "cgroup.procs").read_text() == "77\n4242\n"  # not ours to move
    assert (box / "cgroup.subtree_control").read_text() == "cpu memory\n"


def test_fleets_of_one_process_share_the_container_and_the_last_puts_back(
    fixture_tree: Callable[[str], Path],
) -> None:
    root = fixture_tree("v2")
    own = root / OWN
    first = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-1", root / "proc", 4242)
    second = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-2", root / "proc", 4242)
    box = own / "rightsizer-4242"
    assert first.driver.parent_dirs() == (box / "rightsizer-4242-1",)
    assert second.driver.parent_dirs() == (box / "rightsizer-4242-2",)
    first.driver.close()
    assert (box / "supervisor").exists()  # the second fleet still lives there
    second.driver.close()
    assert not box.exists()


def test_a_failure_half_way_puts_everything_back(fixture_tree: Callable[[str], Path]) -> None:
    root = fixture_tree("v2")
    own = root / OWN
    (own / "cgroup.subtree_control").unlink()
    (own / "cgroup.subtree_control").mkdir()  # writing it fails, after our process moved
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-1", root / "proc", 4242)
    assert not choice.capped and choice.warning is not None
    assert "cgroup.subtree_control" in choice.warning
    assert not (own / "rightsizer-4242").exists()
    assert (own / "cgroup.procs").read_text() == "4242"  # moved back


def test_a_run_enters_its_container_for_the_fleet_it_starts(
    fixture_tree: Callable[[str], Path],
) -> None:
    root = fixture_tree("v2")
    entered = enter_own(root / "sys/fs/cgroup", root / "proc", 4242)
    assert entered is not None
    assert entered.leaf == root / OWN / "rightsizer-4242" / "supervisor"
    assert (entered.leaf / "cgroup.procs").read_text() == "4242"
    leave(entered)
    assert not entered.path.exists()
    assert enter_own(root / "nothing", root / "proc", 4242) is None
    v1 = fixture_tree("v1-nested")
    assert enter_own(v1 / "sys/fs/cgroup", v1 / "proc", 77) is None


def test_swap_is_closed_when_the_kernel_offers_it(fixture_tree: Callable[[str], Path]) -> None:
    root = fixture_tree("v2")
    choice = open_driver(root / "sys/fs/cgroup", "rightsizer-4242-3", root / "proc", 4242)
    task_dir = root / OWN / "rightsizer-4242/rightsizer-4242-3/task-9"
    task_dir.mkdir()
    (task_dir / "memory.swap.max").write_text("max\n")
    group = choice.driver.create("task-9", 1.5, 64)
    assert (task_dir / "memory.swap.max").read_text() == "0"
    assert (task_dir / "cpu.max").read_text() == "150000 100000"
    group.remove()
    choice.driver.close()
