"""Whether the recommended alarm and the run's caught each fault: from a faults.json written by
hand (times chosen so the delays are known), and the recommended alarm replayed over a
recorded run against what its live alarm did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rightsizer.analysis.answer import Answer, build_answer
from rightsizer.analysis.fault_finding import (
    FaultVerdict,
    RecommendedAlarm,
    fault_verdicts,
    recommended_alarm,
)
from rightsizer.analysis.recorded_run import load_run
from rightsizer.fault.record import FaultsDocument
from tests.analysis.helpers import fixture_run

T = 1_800_000_000.0


def record(
    kind: str,
    span: tuple[float, float, float | None],
    alarms: list[tuple[str, float, str]],
    task: int = 1,
) -> dict[str, Any]:
    """One fault of faults.json as `run` writes it, with what a verdict reads; `span`: its
    start, end and recovery in seconds from T."""
    start, end, recovered = span
    return {
        "fault": {"kind": kind, "start": start, "duration": end - start, "task": task},
        "started": T + start,
        "ended": T + end,
        "recovered_at": None if recovered is None else T + recovered,
        "alarms": [
            {"alarm": name, "time": T + at, "from": "OK", "to": to, "delay": at - start}
            for name, at, to in alarms
        ],
    }


FAULTS = {
    "faults": [
        # A kill at 100 s: the run's cpu-high went to ALARM at 130 s, recovery at 150 s.
        record("kill-task", (100, 100, 150), [("cpu-high", 130, "ALARM")]),
        # An outage 200-215 s: only an OK transition; recovered at 240 s.
        record("db-outage", (200, 215, 240), [("cpu-high", 220, "OK")]),
        # A freeze 300-310 s, never recovered; two alarms, one of them twice.
        record("freeze-task", (300, 310, None),
               [("p95", 305, "ALARM"), ("cpu-high", 330, "ALARM"), ("p95", 340, "ALARM")]),
        # A drain 400-405 s, recovered at 410 s.
        record("lb-drain", (400, 405, 410), [], task=2),
        {"fault": {"kind": "lb-drain", "start": 5.0, "duration": 1.0, "task": 2},
         "started": None, "error": "no HAProxy"},
    ],
    "integrity": None,
}  # fmt: skip

# The recommended alarm over the same run (which ends at 600 s): ALARM at 90 s, so already in
# ALARM when the kill came; OK at 120 s; ALARM at 205 s, in the outage; OK at 260 s, all
# through the drain; ALARM at 500 s: the freeze never recovered, so that still counts for it.
RECOMMENDED = RecommendedAlarm(
    "cpu-high",
    40.0,
    (
        (T + 10, "OK"),
        (T + 90, "ALARM"),
        (T + 120, "OK"),
        (T + 205, "ALARM"),
        (T + 260, "OK"),
        (T + 500, "ALARM"),
    ),
    end=T + 600,
)


def test_each_fault_is_judged_against_the_recommended_and_the_runs_alarms() -> None:
    document = FaultsDocument.from_json(FAULTS)
    verdicts = fault_verdicts(document.faults, recommended=RECOMMENDED)
    kill, outage, _, drain, never = verdicts
    caught = [(v.recommended.delay_s, v.recommended.already) if v.recommended else None
              for v in verdicts]  # fmt: skip
    assert caught == [(None, True), (5.0, False), (200.0, False), (None, False), None]
    assert kill.sentence == (
        "kill-task@100s:1: the recommended alarm (40%) was already in ALARM when it began; "
        "the run's alarms: cpu-high after 30.0 s"
    )
    assert outage.sentence == (
        "db-outage@200s+15s: the recommended alarm (40%) caught it after 5.0 s; "
        "the run's alarms: none went into ALARM"
    )
    assert drain.sentence.startswith(
        "lb-drain@400s+5s:2: the recommended alarm (40%) would not have caught it"
    )
    assert never.sentence == "lb-drain@5s+1s:2: not done, so nothing to catch"
    # answer.json keeps them, sentences included, and reads them back.
    answer = Answer(faults=verdicts)
    raw = answer.to_json()
    assert raw["faults"][1]["sentence"] == outage.sentence
    assert raw["faults"][1]["recommended"] == {
        "alarm": "cpu-high", "caught": True, "delay_s": 5.0, "already": False,
    }  # fmt: skip
    assert Answer.from_json(raw) == answer
    assert f"Fault {outage.sentence}" in answer.lines()


def test_a_run_without_a_recommended_threshold_names_its_own_alarms() -> None:
    document = FaultsDocument.from_json(FAULTS)
    kill, outage, freeze, _, never = fault_verdicts(document.faults)
    assert kill.recommended is None
    assert [(c.alarm, c.delay_s) for c in kill.alarms] == [("cpu-high", 30.0)]
    assert outage.alarms == ()  # an OK is no catch
    assert [(c.alarm, c.delay_s) for c in freeze.alarms] == [("p95", 5.0), ("cpu-high", 30.0)]
    assert not never.done and never.alarms == ()
    assert kill.sentence == (
        "kill-task@100s:1: no recommended threshold to judge; the run's alarms: cpu-high after "
        "30.0 s"
    )
    assert outage.sentence.endswith("the run's alarms: none went into ALARM")
    assert never.sentence == "lb-drain@5s+1s:2: not done, so nothing to catch"


def test_the_recommended_alarm_replayed_at_the_runs_own_threshold_goes_as_the_live_one(
    tmp_path: Path,
) -> None:
    # The oracle: the alarm history the live watcher wrote while the fixture run went on.
    run = load_run(fixture_run(tmp_path, "run-1-task"))
    (live,) = [a for a in run.alarms if a.metric_name == "CPUUtilization"]
    assert live.threshold is not None
    replayed = recommended_alarm(run, live.threshold)
    assert replayed is not None and replayed.name == live.name
    into_alarm = [t for t, state in replayed.transitions if state == "ALARM"]
    assert into_alarm and into_alarm == [
        h.timestamp for h in live.history if h.new_state == "ALARM"
    ]
    # Far above any CPU: it never fires, and a fault then is not caught.
    never = recommended_alarm(run, 1e6)
    assert never is not None and all(state != "ALARM" for _, state in never.transitions)


def test_build_answer_judges_the_faults_it_is_given(tmp_path: Path) -> None:
    run = load_run(fixture_run(tmp_path, "run-1-task"))
    (live,) = [a for a in run.alarms if a.metric_name == "CPUUtilization"]
    first_alarm = next(h.timestamp for h in live.history if h.new_state == "ALARM")
    start = first_alarm - 1 - T  # a fault 1 s before the live alarm fired, recovered later
    faults = FaultsDocument.from_json(
        {"faults": [record("kill-task", (start, start, start + 1e4), [])]}
    ).faults
    answer = build_answer(run, recommended_threshold=live.threshold, faults=faults)
    (verdict,) = answer.faults
    assert verdict.recommended is not None
    assert verdict.recommended.delay_s == pytest.approx(1.0)
    assert isinstance(verdict, FaultVerdict) and build_answer(run).faults == ()
