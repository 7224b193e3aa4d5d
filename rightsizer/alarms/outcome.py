"""What one alarm did over a run, from its transitions: the one definition replay, the report
and the demo share.

    outcome = alarm_outcome(history.read_history(db, "cpu-high"), load_end=manifest["load_end"])
    outcome.first_alarm      # the first transition into ALARM (None: never)
    outcome.back_to_ok_at    # the first moment at or after load_end in OK (None: never)
    outcome.flaps            # transitions into ALARM after the first one
    alarm_onset(items, at=slo_break)  # the ALARM that was still on at the break (or the next)

Pure: history items (oldest first or not) in, a frozen dataclass out; times are epoch seconds.
A state string this version does not know counts as neither ALARM nor OK.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rightsizer.alarms.history import HistoryItem
from rightsizer.alarms.state import AlarmState


@dataclass(frozen=True)
class AlarmOutcome:
    """One alarm's run against the end of the load.

    `back_to_ok_at` is `load_end` itself when the alarm was in OK as the load ended (an alarm
    that never fired, too), else the first transition into OK after it; None when the alarm
    was not in OK at any moment from the load's end on. `final_state` is None without history.
    """

    first_alarm: float | None
    back_to_ok_at: float | None
    flaps: int
    final_state: AlarmState | None

    @property
    def fired(self) -> bool:
        return self.first_alarm is not None

    def back_to_ok_after(self, load_end: float) -> float | None:
        """Seconds from `load_end` to `back_to_ok_at` (0 when already OK), or None."""
        return None if self.back_to_ok_at is None else self.back_to_ok_at - load_end


def alarm_outcome(history: Sequence[HistoryItem], load_end: float) -> AlarmOutcome:
    """Summarise one alarm's transitions (a single alarm's; see the module docstring)."""
    ordered = sorted(history, key=lambda item: item.timestamp)
    into_alarm = [i.timestamp for i in ordered if _state(i) is AlarmState.ALARM]
    return AlarmOutcome(
        first_alarm=into_alarm[0] if into_alarm else None,
        back_to_ok_at=_first_ok_from(ordered, load_end),
        flaps=max(0, len(into_alarm) - 1),
        final_state=_state(ordered[-1]) if ordered else None,
    )


def alarm_onset(history: Sequence[HistoryItem], at: float) -> float | None:
    """The transition into ALARM that was still in force at `at` (the alarm stayed in ALARM
    from it until `at`); when the alarm was not in ALARM at `at`, the first transition into
    ALARM after it (a late alarm); None when neither exists."""
    ordered = sorted(history, key=lambda item: item.timestamp)
    before = [i for i in ordered if i.timestamp <= at]
    if before and _state(before[-1]) is AlarmState.ALARM:
        return before[-1].timestamp
    return next(
        (i.timestamp for i in ordered if i.timestamp > at and _state(i) is AlarmState.ALARM),
        None,
    )


def _first_ok_from(ordered: Sequence[HistoryItem], load_end: float) -> float | None:
    before = [i for i in ordered if i.timestamp <= load_end]
    # No transition yet at load_end: the alarm was still in its initial INSUFFICIENT_DATA.
    if before and _state(before[-1]) is AlarmState.OK:
        return load_end
    return next(
        (i.timestamp for i in ordered if i.timestamp > load_end and _state(i) is AlarmState.OK),
        None,
    )


def _state(item: HistoryItem) -> AlarmState | None:
    try:
        return AlarmState(item.new_state)
    except ValueError:
        return None
