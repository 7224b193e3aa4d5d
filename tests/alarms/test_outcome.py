"""One alarm's outcome from its transitions: first ALARM, back to OK after the load, flaps,
and the onset that was still on at a given moment."""

from __future__ import annotations

from rightsizer.alarms.history import HistoryItem
from rightsizer.alarms.outcome import alarm_onset, alarm_outcome
from rightsizer.alarms.state import AlarmState


def item(timestamp: float, new: str, old: str = "OK") -> HistoryItem:
    return HistoryItem("cpu-high", timestamp, old, new, "reason", {})


# ALARM at 40 (false, OK again at 60), ALARM at 70, OK at 130 after the load ended at 100.
HISTORY = [
    item(10, "OK", "INSUFFICIENT_DATA"),
    item(40, "ALARM"),
    item(60, "OK", "ALARM"),
    item(70, "ALARM"),
    item(130, "OK", "ALARM"),
]


def test_first_alarm_back_to_ok_and_flaps() -> None:
    outcome = alarm_outcome(HISTORY, load_end=100)
    assert outcome.first_alarm == 40
    assert outcome.back_to_ok_at == 130
    assert outcome.back_to_ok_after(100) == 30
    assert outcome.flaps == 1
    assert outcome.final_state is AlarmState.OK
    assert outcome.fired


def test_order_of_the_items_does_not_matter() -> None:
    assert alarm_outcome(list(reversed(HISTORY)), 100) == alarm_outcome(HISTORY, 100)


def test_already_ok_when_the_load_ended() -> None:
    outcome = alarm_outcome(HISTORY[:3], load_end=100)
    assert outcome.back_to_ok_at == 100
    assert outcome.back_to_ok_after(100) == 0
    # An OK that came and went before the load ended is not "back to OK".
    outcome = alarm_outcome(HISTORY[:4], load_end=100)
    assert outcome.back_to_ok_at is None
    assert outcome.final_state is AlarmState.ALARM


def test_the_first_ok_after_the_load_counts_not_the_last() -> None:
    flapping = [*HISTORY, item(140, "ALARM"), item(150, "OK", "ALARM")]
    outcome = alarm_outcome(flapping, load_end=100)
    assert outcome.back_to_ok_at == 130
    assert outcome.flaps == 2


def test_no_history_and_unknown_states() -> None:
    empty = alarm_outcome([], load_end=100)
    assert (empty.first_alarm, empty.back_to_ok_at, empty.flaps, empty.final_state) == (
        None,
        None,
        0,
        None,
    )
    assert not empty.fired
    # Still INSUFFICIENT_DATA as the load ended: not OK.
    assert alarm_outcome([item(10, "INSUFFICIENT_DATA")], 100).back_to_ok_at is None
    odd = alarm_outcome([item(10, "PENDING"), item(20, "ALARM")], 100)
    assert (odd.first_alarm, odd.final_state) == (20, AlarmState.ALARM)


def test_onset_is_the_alarm_still_on_at_the_moment() -> None:
    assert alarm_onset(HISTORY, at=90) == 70  # not the false alarm at 40
    assert alarm_onset(HISTORY, at=70) == 70  # a transition at that very moment counts
    assert alarm_onset(HISTORY, at=50) == 40
    assert alarm_onset(HISTORY, at=65) == 70  # OK then: the next ALARM, a late one
    assert alarm_onset(HISTORY, at=200) is None  # OK then and never again
    assert alarm_onset([], at=0) is None
