"""Stale groups: found by owner pid, removed when empty, left alone when their owner runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rightsizer.cgroup.hierarchy import detect
from rightsizer.cgroup.sweep import find_stale
from rightsizer.process import running


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert not running(process.pid)
    return process.pid


def _stat(proc: Path, pid: int, state: str) -> None:
    (proc / str(pid)).mkdir()
    fields = [state] + ["0"] * 18 + ["1234"] + ["0"] * 30
    (proc / str(pid) / "stat").write_text(f"{pid} (python3 (x) y) {' '.join(fields)}\n")


def test_owners_are_looked_up_in_the_given_proc_root(fixture_tree: Callable[[str], Path]) -> None:
    root = fixture_tree("v2")
    own = root / "sys/fs/cgroup/user.slice/app.scope"
    for pid in (901, 902, 903):
        (own / f"rightsizer-{pid}-1").mkdir()
    _stat(root / "proc", 901, "S")  # running (its name has spaces and parentheses)
    _stat(root / "proc", 902, "Z")  # a zombie: ended, not yet reaped
    # 903 has no /proc entry at all
    hierarchy = detect(root / "sys/fs/cgroup", root / "proc", 4242)
    stale = find_stale(hierarchy, root / "proc")
    assert sorted(g.owner_pid for g in stale) == [902, 903]


def test_only_groups_of_dead_owners_are_stale(fixture_tree: Callable[[str], Path]) -> None:
    root = fixture_tree("v2")
    own = root / "sys/fs/cgroup/user.slice/app.scope"
    dead = _dead_pid()
    (own / f"rightsizer-{dead}-1" / "task-1").mkdir(parents=True)
    (own / f"rightsizer-{dead}-1" / "task-1" / "cgroup.procs").write_text("")
    (own / f"rightsizer-{os.getpid()}-1").mkdir()  # ours, alive
    (own / "someone-else").mkdir()
    hierarchy = detect(root / "sys/fs/cgroup", root / "proc", 4242)
    stale = find_stale(hierarchy)
    assert [(g.path.name, g.owner_pid) for g in stale] == [(f"rightsizer-{dead}-1", dead)]
    assert stale[0].pids() == []
    stale[0].remove()
    assert not (own / f"rightsizer-{dead}-1").exists()
    assert (own / f"rightsizer-{os.getpid()}-1").exists()
    assert (own / "someone-else").exists()


@pytest.mark.cgroups
def test_real_stale_group_is_removed() -> None:
    hierarchy = detect(Path("/sys/fs/cgroup"))
    dead = _dead_pid()
    made = []
    try:
        for own in hierarchy.own_dirs():
            path = own / f"rightsizer-{dead}-7" / "task-1"
            path.mkdir(parents=True)
            made.append(path)
        stale = [g for g in find_stale(hierarchy) if g.owner_pid == dead]
        assert len(stale) == len(hierarchy.own_dirs())
        for group in stale:
            group.remove()
        assert not any(p.parent.exists() for p in made)
    finally:
        for path in made:
            for leftover in (path, path.parent):
                if leftover.exists():
                    leftover.rmdir()
