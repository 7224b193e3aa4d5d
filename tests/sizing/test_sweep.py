"""The sweep's plan: each size's `rightsizer run` command line, and sizes this machine cannot
give refused before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightsizer.errors import UsageError
from rightsizer.sizing.sweep import SweepPlan, check_fits, size_command
from rightsizer.sizing.task_size import TaskSize
from rightsizer.slo import Slo


def value_of(command: list[str], flag: str) -> str:
    assert command.count(flag) == 1, (flag, command)
    return command[command.index(flag) + 1]


def test_each_size_runs_one_capped_task_searched() -> None:
    plan = SweepPlan(sizes=(TaskSize(0.5, 1024),), out=Path("runs"), slo=Slo(800.0, 0.5))
    command = size_command(plan, TaskSize(0.5, 1024), Path("/out"))
    assert command[command.index("run") - 2 : command.index("run")] == ["-m", "rightsizer"]
    assert value_of(command, "--users") == "auto"
    assert value_of(command, "--tasks") == "1"
    assert (value_of(command, "--cpu"), value_of(command, "--memory")) == ("0.5", "1024")
    assert (value_of(command, "--step-time"), value_of(command, "--max-steps")) == ("15", "9")
    assert (value_of(command, "--slo-p95-ms"), value_of(command, "--slo-failures")) == (
        "800",
        "0.5",
    )
    assert value_of(command, "--out") == "/out"
    assert "--reset" in command  # the bundled uploader starts from a clean state
    assert value_of(command, "--port") == "0"


def test_quick_and_the_users_flags_reach_every_run() -> None:
    flags = (("task_cmd", "python app.py {port}"), ("port", 9000), ("cpu", 4.0), ("tasks", 3))
    plan = SweepPlan(
        sizes=(TaskSize(0.25, 512),), out=Path("runs"), quick=True, search_from=40, flags=flags
    )
    command = size_command(plan, TaskSize(0.25, 512), Path("/out"), Path("/etc/r.toml"))
    assert value_of(command, "--config") == "/etc/r.toml"
    assert value_of(command, "--task-cmd") == "python app.py {port}"
    assert value_of(command, "--port") == "9000"
    assert value_of(command, "--cpu") == "0.25"  # the size's, not a settings flag's
    assert value_of(command, "--tasks") == "1"
    assert value_of(command, "--search-from") == "40"
    assert (value_of(command, "--step-time"), value_of(command, "--max-steps")) == ("7", "6")
    assert plan.workers(TaskSize(2, 4096)) == 1  # a --task-cmd runs its own processes


def test_the_bundled_uploader_gets_workers_by_size() -> None:
    plan = SweepPlan(sizes=(TaskSize(0.25, 512),), out=Path("runs"))
    assert [plan.workers(TaskSize(c, 4096)) for c in (0.25, 0.5, 1, 2)] == [1, 1, 2, 3]


def test_sizes_beyond_this_machine_are_refused() -> None:
    check_fits((TaskSize(0.25, 512), TaskSize(1.5, 3072)), cores=2)  # 2 - 0.5 = 1.5: fits
    with pytest.raises(UsageError) as caught:
        check_fits((TaskSize(0.25, 512), TaskSize(2, 4096)), cores=2)
    message = str(caught.value)
    assert message.startswith("--sizes: 2/4096: this machine has 2 cores")
    assert "at most 1.5 vCPU" in message and "\n" not in message
