"""The report's fault table, from a faults.json written as a run writes it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from rightsizer.errors import UsageError
from rightsizer.fault.fault import Fault
from rightsizer.fault.record import (
    AlarmChange,
    FaultRecord,
    FaultsDocument,
    Integrity,
    Window,
)
from rightsizer.fault.schedule import ServerChange
from rightsizer.report.faults import fault_windows, faults_view, shade_faults


def _killed() -> FaultRecord:
    return FaultRecord(
        fault=Fault.parse("kill-task@20s:2"),
        started=100.0,
        ended=100.0,
        facts={"pid": 4242, "mechanism": "SIGKILL"},
        error=None,
        server_changes=(ServerChange(100.5, "t2", "DOWN"), ServerChange(103.0, "t2", "UP")),
        out_of_rotation=100.5,
        back_in_rotation=103.0,
        alarms=(AlarmChange("latency-high", 112.0, "OK", "ALARM", 12.0),),
        baseline=Window(90.0, 100.0, 50, 0, 20.0),
        during=None,
        after=Window(100.0, 106.0, 24, 3, 480.0),
        recovered_at=106.0,
    )


def test_each_fault_is_a_row_with_what_saw_it(tmp_path: Path) -> None:
    never = FaultRecord(Fault.parse("lb-drain@50s+5s"), None, None, {}, "the load ended before "
                        "its start", (), None, None, (), None, None, None, None)  # fmt: skip
    document = FaultsDocument((_killed(), never), Integrity(30, 30, 30, True))
    (tmp_path / "faults.json").write_text(json.dumps(document.to_json()))
    view = faults_view(tmp_path)
    assert view is not None
    killed, not_done = view["rows"]
    assert killed["detected_by"] == "HAProxy (DOWN) in 0.5 s; latency-high ALARM in 12.0 s"
    assert killed["back_in_rotation"] == "3.0 s"
    assert killed["failed"] == "3" and killed["recovery"] == "6.0 s"
    assert killed["after"] == "24 requests, 3 failed, p95 480 ms"
    assert not_done["error"] == "the load ended before its start"
    assert not_done["recovery"] == "–" and not_done["detected_by"] == "–"
    assert view["integrity"]["intact"] is True


def test_no_faults_json_no_section_and_a_broken_one_is_one_line(tmp_path: Path) -> None:
    assert faults_view(tmp_path) is None
    (tmp_path / "faults.json").write_text('{"faults": [{"fault": {}}]}')
    with pytest.raises(UsageError, match=r"not a valid faults\.json"):
        faults_view(tmp_path)


def test_faults_done_are_shaded_on_a_timeline_and_an_instant_is_a_line(tmp_path: Path) -> None:
    drain = replace(_killed(), fault=Fault.parse("lb-drain@20s+4s"), ended=104.0)
    never = replace(_killed(), fault=Fault.parse("lb-drain@50s+5s"), started=None, ended=None)
    document = FaultsDocument((_killed(), drain, never))
    (tmp_path / "faults.json").write_text(json.dumps(document.to_json()))
    windows = fault_windows(tmp_path)
    assert windows == [(100.0, 100.0, "kill-task"), (100.0, 104.0, "lb-drain")]
    ax = Figure().subplots()
    shade_faults(ax, windows, t0=90.0)
    (span,) = ax.patches  # the drain's window, from 10 s to 14 s of the chart
    assert isinstance(span, Rectangle)
    assert (span.get_x(), span.get_x() + span.get_width()) == (10.0, 14.0)
    (line,) = ax.lines  # the kill, at 10 s
    assert np.asarray(line.get_xdata(), dtype=float).tolist() == [10.0, 10.0]
    assert [t.get_text() for t in ax.texts] == ["kill-task", "lb-drain"]
    assert fault_windows(tmp_path / "elsewhere") == []
