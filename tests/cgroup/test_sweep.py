"""Stale groups: found by owner pid, removed when empty, left alone when their owner runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rightsizer.cgroup.hierarchy import detect
from rightsizer.cgroup.sweep import find_stale, pid_alive


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert not pid_alive(process.pid)
    return process.pid


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
