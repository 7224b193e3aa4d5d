"""`rightsizer run --fault oom-task@...` for real: a 2-task capped fleet under light load, task 2's
memory group pushed over its limit; the kernel's OOM killer kills the task, the fleet's own
supervisor says so (exit 137, "OutOfMemoryError"), and a new task takes the slot."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from tests.fault.test_run_faults import faults_of, gone
from tests.load.test_run_fleet import fleet_gone

pytestmark = [pytest.mark.slow, pytest.mark.cgroups, pytest.mark.haproxy, pytest.mark.locust]


def test_oom_task_has_the_kernel_kill_the_task_and_the_fleet_restarts_it(run_cli: Any) -> None:
    finished = run_cli(
        "--users", "4,4", "--step-time", "4", "--port", "0", "--cooldown", "0",
        "--tasks", "2", "--memory", "64", "--fault", "oom-task@3s:2",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    (record,) = faults_of(finished)["faults"]
    assert record["error"] is None and record["text"] == "oom-task@3s:2"
    facts = record["facts"]
    killed = facts["pid"]
    assert gone(killed) and gone(facts["allocator_pid"])
    assert facts["oom_kills_after"] > facts["oom_kills_before"]  # the group's kernel counter
    assert facts["replaced_by_pid"] not in (None, killed)
    # The oracle: the fleet's supervisor, which knows nothing of faults, saw its task end as
    # ECS says an out-of-memory container ends.
    assert facts["oom"] is True and facts["exit_code"] in (137, -9)
    assert facts["stop_reason"].startswith("OutOfMemoryError")
    # HAProxy saw the task go and its replacement come.
    assert record["out_of_rotation"] is not None and record["back_in_rotation"] is not None
    # answer.json judges it: no recommended threshold in a lone run, the run's alarms named.
    (verdict,) = json.loads((finished.run_dir() / "answer.json").read_text())["faults"]
    assert verdict["fault"] == "oom-task@3s:2" and verdict["done"] is True
    assert verdict["recommended"] is None and "the run's alarms" in verdict["sentence"]
    page = (finished.run_dir() / "report.html").read_text()
    assert verdict["sentence"] in html.unescape(page[page.index('<section id="faults">') :])
    fleet_gone(finished)
