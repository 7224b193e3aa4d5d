"""oom-task, db-latency and db-outage on MariaDB: how they are written, and what a fleet that
cannot take them says before any load."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightsizer.errors import UnavailableError, UsageError
from rightsizer.fault.actions import FaultFleet
from rightsizer.fault.fault import Fault, FaultKind, check_faults


def fleet(**changes: object) -> FaultFleet:
    values: dict[str, object] = {
        "supervisor_pid": 1,
        "control_url": "http://127.0.0.1:1",
        "lb_socket": None,
        "cgroup_version": 1,
        "cgroup_root": Path("/nonexistent"),
        "groups": (),
        "db": "sqlite:////tmp/uploader.db",
    }
    return FaultFleet(**(values | changes))  # type: ignore[arg-type]


def test_oom_task_is_an_instant_on_one_task_and_db_latency_lasts_on_the_database() -> None:
    oom, latency = Fault.parse("oom-task@3s:2"), Fault.parse("db-latency@4s+2s")
    assert (oom.kind, oom.start, oom.duration, oom.task) == (FaultKind.OOM_TASK, 3.0, 0.0, 2)
    assert (latency.kind, latency.end) == (FaultKind.DB_LATENCY, 6.0)
    assert oom.text == "oom-task@3s:2" and latency.text == "db-latency@4s+2s"
    with pytest.raises(UsageError, match="oom-task takes no duration"):
        Fault.parse("oom-task@3s+2s")
    with pytest.raises(UsageError, match="db-latency hits no task"):
        Fault.parse("db-latency@3s+2s:1")
    with pytest.raises(UsageError, match="overlaps db-latency"):  # one database, one fault
        check_faults([latency, Fault.parse("db-outage@5s+2s")], load_seconds=20, tasks=1,
                     fleet=True)  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "changes", "says"),
    [
        ("oom-task@1s", {"cgroup_version": None}, "--fault oom-task: the fleet's tasks have no"),
        ("db-latency@1s+1s", {}, "only on MariaDB, through the run's tcp proxy; the database is "
                                 "sqlite"),
        ("db-latency@1s+1s", {"db": "postgresql://u@h/d"}, "the database is postgresql"),
    ],
)  # fmt: skip
def test_a_fleet_that_cannot_take_it_says_so_in_one_line(
    fault: str, changes: dict[str, object], says: str
) -> None:
    with pytest.raises(UnavailableError) as caught:
        fleet(**changes).check([Fault.parse(fault)])
    assert says in str(caught.value) and "\n" not in str(caught.value)
