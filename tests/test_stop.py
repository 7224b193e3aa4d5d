"""How a run ended: the manifest's text both ways, exit codes, the report's line."""

from __future__ import annotations

import pytest

from rightsizer.stop import COMPLETED, INTERRUPTED, STOPPED_IN_UI, Stop, StopReason

# Every text a manifest holds, from this version or an earlier one.
WRITTEN = [
    ("completed", Stop(StopReason.COMPLETED)),
    ("interrupted", Stop(StopReason.INTERRUPTED)),
    ("stopped in the web UI", Stop(StopReason.WEB_UI)),
    ("alarm users-present", Stop(StopReason.ALARM, ("users-present",))),
    ("alarm cpu-high, memory-high", Stop(StopReason.ALARM, ("cpu-high", "memory-high"))),
    ("alarm stop-run action", Stop(StopReason.ALARM)),
]


@pytest.mark.parametrize(("text", "stop"), WRITTEN)
def test_the_manifest_text_reads_back_as_the_stop_that_wrote_it(text: str, stop: Stop) -> None:
    assert Stop.parse(text) == stop
    assert stop.text == text


def test_only_a_signal_exits_130_and_counts_as_interrupted() -> None:
    codes = {text: (stop.exit_code, stop.interrupted) for text, stop in WRITTEN}
    assert codes == {
        "completed": (0, False),
        "interrupted": (130, True),
        "stopped in the web UI": (0, False),
        "alarm users-present": (0, False),
        "alarm cpu-high, memory-high": (0, False),
        "alarm stop-run action": (0, False),
    }


def test_the_report_names_what_ended_the_run() -> None:
    assert COMPLETED.note is None
    assert INTERRUPTED.note is not None and "Ctrl-C" in INTERRUPTED.note
    assert STOPPED_IN_UI.note is not None and "web UI" in STOPPED_IN_UI.note
    alarm = Stop.parse("alarm users-present").note
    assert alarm is not None and "users-present" in alarm and "Ctrl-C" not in alarm


def test_an_old_manifest_without_a_stop_reason_reads_from_interrupted() -> None:
    # Written when a signal came before the load began: no "stop_reason" key.
    assert Stop.from_manifest(None, True) == INTERRUPTED
    assert Stop.from_manifest(None, False) is None
    # An older version wrote "interrupted": true for an alarm's stop too; the text decides.
    assert Stop.from_manifest("alarm users-present", True) == Stop(
        StopReason.ALARM, ("users-present",)
    )
