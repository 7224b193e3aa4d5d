"""Sweeping what dead supervisors left: their directories (logs, HAProxy's configuration)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rightsizer.fleet.sweep import sweep, sweep_workdirs


def test_directories_of_supervisors_that_no_longer_run_are_removed(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        fleets = tmp_path / "fleets"
        for name in (str(gone.pid), str(live.pid), "4242", "notes"):
            (fleets / name / "logs").mkdir(parents=True)
            (fleets / name / "logs" / "task-1.log").write_text("...")
        (fleets / "99999999").symlink_to(tmp_path / "elsewhere")
        (tmp_path / "elsewhere").mkdir()
        removed = sweep_workdirs(fleets, own_pid=4242)  # 4242: a dead process had our pid
        assert sorted(p.name for p in removed) == sorted([str(gone.pid), "4242"])
        assert sorted(p.name for p in fleets.iterdir()) == sorted(
            [str(live.pid), "notes", "99999999"]
        )
        assert (tmp_path / "elsewhere").is_dir()  # a link is never followed
        assert sweep_workdirs(tmp_path / "missing") == []
    finally:
        live.kill()
        live.wait()


def test_sweep_reads_processes_from_the_given_proc_root(tmp_path: Path) -> None:
    # No /proc/<owner> in this root: its ledger's owner is gone; no cgroup tree: nothing else.
    ledgers = tmp_path / "ledger"
    ledgers.mkdir()
    (ledgers / "rightsizer-7-1.json").write_text('{"owner": 7, "processes": []}')
    report = sweep(tmp_path / "no-cgroups", ledgers, proc_root=tmp_path / "proc")
    assert report.ended == [] and report.removed == []
    assert list(ledgers.iterdir()) == []
