"""When an alarm was in ALARM (the red bands on the report's charts), and what its outcome
means for the answer. The outcome itself (first ALARM, back to OK after the load, flaps) is
rightsizer.alarms.outcome's, the one definition that replay, the report and the demo share.

    episodes = alarm_episodes(alarm.history, until=run.end)       # shaded on the CPU chart
    outcome = alarm_outcome(alarm.history, load_end=run.load_end or run.end)
    returned_to_ok(outcome)                                        # True, False or None
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rightsizer.alarms.history import HistoryItem
from rightsizer.alarms.outcome import AlarmOutcome, alarm_outcome
from rightsizer.alarms.state import AlarmState

__all__ = ["AlarmEpisode", "AlarmOutcome", "alarm_episodes", "alarm_outcome", "returned_to_ok"]


@dataclass(frozen=True)
class AlarmEpisode:
    """[start, end) in ALARM, epoch seconds; `open` when the history ends in ALARM."""

    start: float
    end: float
    open: bool = False


def alarm_episodes(history: Sequence[HistoryItem], until: float) -> tuple[AlarmEpisode, ...]:
    """The ALARM intervals of one alarm's transitions (in any order); an episode still open
    at the end of the history is closed at `until`."""
    episodes: list[AlarmEpisode] = []
    started: float | None = None
    for item in sorted(history, key=lambda h: h.timestamp):
        in_alarm = item.new_state == AlarmState.ALARM.value
        if in_alarm and started is None:
            started = item.timestamp
        elif not in_alarm and started is not None:
            episodes.append(AlarmEpisode(started, item.timestamp))
            started = None
    if started is not None:
        episodes.append(AlarmEpisode(started, max(until, started), open=True))
    return tuple(episodes)


def returned_to_ok(outcome: AlarmOutcome) -> bool | None:
    """The answer's "alarm back to OK after the load": None when the alarm never fired,
    else whether it was in OK at some moment from the load's end on."""
    if not outcome.fired:
        return None
    return outcome.back_to_ok_at is not None
