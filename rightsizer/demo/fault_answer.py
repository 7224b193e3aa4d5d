"""`demo --faults`: the answer's fault rows, judged on the fault phase's run.

    answer = with_fault_verdicts(answer, fault_run_dir)

The recommended threshold comes from the first fleet's search; the fault phase ran later with
the demo's CPU alarm. Each fault of its faults.json is judged by that alarm at the recommended
threshold, replayed over the fault phase's own CPU series, and by the alarms that phase ran
(rightsizer.analysis.fault_finding). A phase whose records cannot be read leaves the answer as
it was, with a note.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from rightsizer.analysis.answer import Answer
from rightsizer.analysis.fault_finding import fault_verdicts, recommended_alarm
from rightsizer.analysis.recorded_run import load_run
from rightsizer.errors import RightsizerError
from rightsizer.fault.record import FAULTS_FILE, FaultsDocument


def with_fault_verdicts(answer: Answer, fault_run: Path) -> Answer:
    """`answer` with `faults`: one verdict per fault of the run in `fault_run`."""
    try:
        run = load_run(fault_run)
        document = FaultsDocument.from_json(json.loads((fault_run / FAULTS_FILE).read_text()))
    except (RightsizerError, OSError, ValueError, KeyError, TypeError) as exc:
        note = f"the fault phase's faults were not judged ({exc})"
        return dataclasses.replace(answer, notes=(*answer.notes, note))
    threshold = answer.recommended_threshold
    recommended = recommended_alarm(run, threshold) if threshold is not None else None
    return dataclasses.replace(
        answer, faults=fault_verdicts(document.faults, recommended=recommended)
    )
