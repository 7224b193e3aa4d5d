"""`demo --faults`: the answer judges the fault phase's faults with the recommended threshold."""

from __future__ import annotations

import json
from pathlib import Path

from rightsizer.analysis.answer import Answer
from rightsizer.analysis.recorded_run import load_run
from rightsizer.demo.fault_answer import with_fault_verdicts
from tests.analysis.helpers import fixture_run


def test_the_fault_phase_is_judged_by_the_recommended_threshold(tmp_path: Path) -> None:
    path = fixture_run(tmp_path, "run-1-task")
    (live,) = [a for a in load_run(path).alarms if a.metric_name == "CPUUtilization"]
    # The oracle: the live alarm's own history; a kill 2 s before it first went into ALARM.
    fired = next(h.timestamp for h in live.history if h.new_state == "ALARM")
    kill = {"fault": {"kind": "kill-task", "start": 5.0, "duration": 0.0, "task": 1},
            "started": fired - 2, "ended": fired - 2, "recovered_at": fired + 600,
            "alarms": []}  # fmt: skip
    (path / "faults.json").write_text(json.dumps({"faults": [kill], "integrity": None}))
    answer = with_fault_verdicts(Answer(recommended_threshold=live.threshold), path)
    (verdict,) = answer.faults
    assert verdict.recommended is not None and verdict.recommended.delay_s == 2.0
    assert verdict.sentence.startswith(
        f"kill-task@5s:1: the recommended alarm ({live.threshold:g}%) caught it after 2.0 s"
    )
    (path / "faults.json").write_text("{")
    broken = with_fault_verdicts(Answer(), path)
    assert broken.faults == () and "were not judged" in broken.notes[-1]
