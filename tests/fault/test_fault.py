"""`--fault KIND@START[+DURATION][:TASK]`: parsing, the checks against the run, rightsizer.toml;
the fault schedule on a clock of the test's own; the measures faults.json gets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rightsizer.errors import ConfigError, UnavailableError, UsageError
from rightsizer.fault.actions import Applied, FaultFleet
from rightsizer.fault.fault import Fault, FaultKind, check_faults, run_faults
from rightsizer.fault.record import (
    FaultsDocument,
    Integrity,
    baseline_span,
    measure_faults,
)
from rightsizer.fault.schedule import FaultSchedule
from rightsizer.load.records import RequestRecord


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kill-task@20s", Fault(FaultKind.KILL_TASK, 20.0)),
        ("kill-task@20", Fault(FaultKind.KILL_TASK, 20.0)),
        ("freeze-task@30s+5s:2", Fault(FaultKind.FREEZE_TASK, 30.0, 5.0, 2)),
        ("lb-drain@1.5m+10s", Fault(FaultKind.LB_DRAIN, 90.0, 10.0, 1)),
    ],
)
def test_a_fault_is_parsed(text: str, expected: Fault) -> None:
    assert Fault.parse(text) == expected
    assert Fault.parse(expected.text) == expected  # its own spelling reads back
    assert Fault.from_json(expected.to_json()) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("reboot@20s", "unknown kind 'reboot'"),
        ("kill-task@soon", "start 'soon' is not a time"),
        ("kill-task", "is not KIND@START"),
        ("freeze-task@20s", "freeze-task needs a duration"),
        ("kill-task@20s+5s", "kill-task takes no duration"),
        ("lb-drain@5s+0s", "lasts 0 s"),
        ("lb-drain@5s+2s:0", "task '0' is not a task number"),
        ("lb-drain@5s+2x", "duration '2x' is not a time"),
    ],
)
def test_a_bad_fault_is_one_line(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        Fault.parse(text)
    message = str(caught.value)
    assert says in message and "\n" not in message and message.startswith("--fault")


def test_faults_are_checked_against_the_run() -> None:
    kill, freeze = Fault.parse("kill-task@5s:2"), Fault.parse("freeze-task@8s+4s")
    check_faults([kill, freeze], load_seconds=12, tasks=2, fleet=True)  # fits exactly
    with pytest.raises(UsageError, match="ends after the load's 10 s"):
        check_faults([freeze], load_seconds=10, tasks=2, fleet=True)
    with pytest.raises(UsageError, match="the fleet has 1 task"):
        check_faults([kill], load_seconds=20, tasks=1, fleet=True)
    with pytest.raises(UsageError, match="needs the fleet this run starts; drop --host"):
        check_faults([kill], load_seconds=20, tasks=2, fleet=False)
    with pytest.raises(UsageError, match="overlaps freeze-task@8s"):
        check_faults([freeze, Fault.parse("lb-drain@10s+1s")], load_seconds=30, tasks=1, fleet=True)
    check_faults([freeze], load_seconds=None, tasks=1, fleet=True)  # a search: no end known


def test_faults_come_from_the_flags_or_else_rightsizer_toml(tmp_path: Path) -> None:
    (tmp_path / "rightsizer.toml").write_text(
        'tasks = 2\nfaults = ["lb-drain@4s+2s:2", "kill-task@1s"]\n'
    )
    from_file = run_faults([], None, {}, tmp_path)
    assert [f.text for f in from_file] == ["kill-task@1s:1", "lb-drain@4s+2s:2"]  # start order
    assert run_faults(["kill-task@3s"], None, {}, tmp_path) == (Fault(FaultKind.KILL_TASK, 3.0),)
    (tmp_path / "rightsizer.toml").write_text('faults = "kill-task@1s"\n')
    with pytest.raises(ConfigError, match=r"rightsizer\.toml: faults: expected a list"):
        run_faults([], None, {}, tmp_path)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Journal:
    """What the schedule did, in order: the oracle for its timing and its undoing."""

    def __init__(self, clock: Clock, failing: set[FaultKind] | None = None) -> None:
        self.clock, self.failing = clock, failing or set()
        self.events: list[tuple[str, str, float]] = []

    def inject(self, fault: Fault) -> Applied:
        if fault.kind in self.failing:
            raise UnavailableError("no such thing here")
        self.events.append(("do", fault.text, self.clock.now))
        return Applied(
            {"n": len(self.events)},
            lambda: self.events.append(("undo", fault.text, self.clock.now)),
        )


def test_the_schedule_fires_and_undoes_on_its_clock() -> None:
    clock = Clock(1000.0)
    journal = Journal(clock)
    faults = [Fault.parse("freeze-task@2s+3s:1"), Fault.parse("kill-task@4s:2")]
    rows = [{"svname": "t1", "status": "UP"}, {"svname": "BACKEND", "status": "UP"}]
    schedule = FaultSchedule(faults, journal.inject, lb_rows=lambda: rows, clock=clock)
    schedule.start(thread=False)
    for now in (1001.0, 1002.0, 1003.0, 1004.5, 1005.0, 1006.0):
        clock.now = now
        if now == 1003.0:
            rows[0] = {"svname": "t1", "status": "DOWN"}
        schedule.tick(now)
    runs = schedule.stop()
    assert journal.events == [
        ("do", "freeze-task@2s+3s:1", 1002.0),
        ("do", "kill-task@4s:2", 1004.5),
        ("undo", "freeze-task@2s+3s:1", 1005.0),
    ]
    assert [(r.started, r.ended) for r in runs] == [(1002.0, 1005.0), (1004.5, 1004.5)]
    assert [(c.time, c.server, c.status) for c in schedule.changes] == [
        (1000.0, "t1", "UP"),
        (1003.0, "t1", "DOWN"),
    ]


def test_stopping_early_undoes_what_is_on_and_a_fault_not_done_is_kept_as_such() -> None:
    clock = Clock(0.0)
    journal = Journal(clock, failing={FaultKind.LB_DRAIN})
    faults = [Fault.parse("freeze-task@1s+10s"), Fault.parse("lb-drain@2s+1s:2")]
    schedule = FaultSchedule(faults, journal.inject, clock=clock)
    schedule.start(thread=False)
    clock.now = 2.5
    schedule.tick(2.5)
    clock.now = 3.0
    runs = schedule.stop()  # Ctrl-C, SIGTERM, an error: the run's finally
    assert journal.events == [
        ("do", "freeze-task@1s+10s:1", 2.5),
        ("undo", "freeze-task@1s+10s:1", 3.0),
    ]
    assert runs[1].started is None and runs[1].error == "no such thing here"
    schedule.tick(20.0)  # after stop: nothing more is done
    assert len(journal.events) == 2


def test_a_fault_whose_time_never_came_says_so() -> None:
    clock = Clock(0.0)
    journal = Journal(clock)
    schedule = FaultSchedule([Fault.parse("kill-task@30s")], journal.inject, clock=clock)
    schedule.start(thread=False)
    (run,) = schedule.stop()  # a search that found its limit first
    assert run.started is None and run.error == "the load ended before its start"
    assert journal.events == []


def _records(
    start: float, end: float, rate: float, ms: float, ok: bool = True
) -> list[RequestRecord]:
    count = round((end - start) * rate)
    return [RequestRecord(start + i / rate, "/", "GET", ms, ok, 1) for i in range(count)]


def test_a_fault_is_measured_against_the_step_before_it() -> None:
    # Steps of 10 s from t=0; step 1 steady (10 rps, 20 ms). A fault from 12 to 14 s: half
    # the requests fail at 500 ms; from 14 to 16 s slow (200 ms); from 16 s on as before.
    records = (
        _records(0, 12, 10, 20)
        + _records(12, 14, 10, 500, ok=False)
        + _records(14, 16, 10, 200)
        + _records(16, 30, 10, 20)
    )
    clock = Clock(0.0)
    schedule = FaultSchedule([Fault.parse("lb-drain@12s+2s:1")], Journal(clock).inject, clock=clock)
    schedule.start(thread=False)
    for now in (12.0, 14.0):
        clock.now = now
        schedule.tick(now)
    transitions = [
        {"alarm": "cpu", "time": 5.0, "from": "INSUFFICIENT_DATA", "to": "OK"},
        {"alarm": "cpu", "time": 13.0, "from": "OK", "to": "ALARM"},
    ]
    document = measure_faults(
        schedule.stop(), changes=[], records=records, transitions=transitions,
        load=(0.0, 30.0), step_starts=[0.0, 10.0, 20.0],
        integrity=Integrity(acknowledged=5, rows=5, files=5, consistent=True),
    )  # fmt: skip
    record = document.faults[0]
    assert record.baseline is not None and (record.baseline.start, record.baseline.end) == (
        0.0,
        10.0,
    )
    assert record.baseline.requests == 100 and record.baseline.p95_ms == 20
    assert record.during is not None and record.during.requests == 20 and record.during.failed == 20
    assert record.recovered_at == 16.0 and record.recovery_seconds == 2.0
    assert record.after is not None and record.after.requests == 20 and record.after.p95_ms == 200
    assert record.failed == 20
    assert [(a.to_state, a.delay) for a in record.alarms] == [("ALARM", 1.0)]
    assert record.sentence == (
        "lb-drain@12s+2s:1: cpu in ALARM after 1.0 s, 20 requests failed, recovered in 2.0 s"
    )
    assert document.integrity is not None and document.integrity.intact
    again = FaultsDocument.from_json(document.to_json())
    assert again == document


def test_the_baseline_is_the_step_before_or_the_first_step_so_far() -> None:
    assert baseline_span([0.0, 10.0, 20.0], 25.0, 0.0) == (10.0, 20.0)
    assert baseline_span([0.0, 10.0, 20.0], 4.0, 0.0) == (0.0, 4.0)


def test_a_fault_not_recovered_and_one_never_done() -> None:
    records = _records(0, 10, 10, 20) + _records(10, 20, 10, 900)
    clock = Clock(0.0)
    faults = [Fault.parse("kill-task@10s"), Fault.parse("lb-drain@15s+1s:2")]
    journal = Journal(clock, failing={FaultKind.LB_DRAIN})
    schedule = FaultSchedule(faults, journal.inject, clock=clock)
    schedule.start(thread=False)
    for now in (10.0, 15.0):
        clock.now = now
        schedule.tick(now)
    document = measure_faults(
        schedule.stop(), changes=[], records=records, transitions=[], load=(0.0, 20.0),
        step_starts=[0.0, 10.0],
    )  # fmt: skip
    killed, never = document.faults
    assert killed.recovered_at is None and killed.recovery_seconds is None
    assert killed.after is not None and killed.after.p95_ms == 900
    assert never.started is None and never.during is None and never.error == "no such thing here"
    assert document.to_json()["faults"][1]["recovery_seconds"] is None


def test_integrity_is_intact_only_when_all_three_agree() -> None:
    assert not Integrity(5, 4, 4, True).intact  # an acknowledged upload lost
    assert not Integrity(5, 5, 6, False).intact  # an orphan file
    assert Integrity(5, 5, 5, True).intact


def _fleet(**changes: object) -> FaultFleet:
    base = FaultFleet(
        supervisor_pid=1,
        control_url="http://127.0.0.1:1",
        lb_socket=Path("/nonexistent/haproxy.sock"),
        cgroup_version=2,
        cgroup_root=Path("/nonexistent"),
        groups=(),
        db="sqlite:////tmp/uploader.db",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fault", "fleet", "says"),
    [
        ("lb-drain@1s+1s", {"lb_socket": None}, "runs without HAProxy"),
        ("freeze-task@1s+1s", {"cgroup_version": None}, "not in cgroups of ours"),
        ("freeze-task@1s+1s", {"cgroup_version": 1}, "no cgroup v1 freezer mounted"),
        ("db-outage@1s+1s", {"db": "mysql+pymysql://u@h/db"}, "the database is mysql+pymysql"),
        ("db-outage@1s+1s", {"db": "sqlite:///:memory:"}, "only on a SQLite file"),
    ],
)
def test_a_fault_this_fleet_cannot_take_is_refused_before_the_load(
    fault: str, fleet: dict[str, object], says: str
) -> None:
    with pytest.raises(UnavailableError) as caught:
        _fleet(**fleet).check([Fault.parse(fault)])
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_the_fleet_is_read_from_its_state_document() -> None:
    state = {
        "pid": 7,
        "control_url": "http://127.0.0.1:9",
        "haproxy_socket": "/s/h.sock",
        "cgroup_version": 1,
        "capped": True,
        "groups": ["/sys/fs/cgroup/cpu/r-7-1"],
    }
    fleet = FaultFleet.from_state(state, Path("/sys/fs/cgroup"), "sqlite:////x.db")
    assert fleet.lb_socket == Path("/s/h.sock") and fleet.cgroup_version == 1
    assert fleet.groups == (Path("/sys/fs/cgroup/cpu/r-7-1"),)
    assert fleet.sqlite_path() == Path("/x.db")
    uncapped = FaultFleet.from_state(state | {"capped": False}, Path("/sys/fs/cgroup"))
    assert uncapped.cgroup_version is None
    with pytest.raises(UnavailableError, match="names no supervisor"):
        FaultFleet.from_state({"url": "x"}, Path("/sys/fs/cgroup"))
