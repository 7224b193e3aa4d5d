"""When an alarm was in ALARM, and whether it came back to OK after the load stopped.

episodes = alarm_episodes(alarm.history, until=run.end)   # shaded on the CPU chart
outcome = alarm_outcome(alarm.history, load_end=run.load_end)
outcome.returned_to_ok, outcome.ok_after_load_s
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rightsizer.alarms.history import HistoryItem

ALARM = "ALARM"
OK = "OK"


@dataclass(frozen=True)
class AlarmEpisode:
    """[start, end) in ALARM, epoch seconds; `open` when the history ends in ALARM."""

    start: float
    end: float
    open: bool = False


def alarm_episodes(history: Sequence[HistoryItem], until: float) -> tuple[AlarmEpisode, ...]:
    """The ALARM intervals of one alarm's transitions (oldest first); an episode still open
    at the end of the history is closed at `until`."""
    episodes: list[AlarmEpisode] = []
    started: float | None = None
    for item in sorted(history, key=lambda h: h.timestamp):
        if item.new_state == ALARM and started is None:
            started = item.timestamp
        elif item.new_state != ALARM and started is not None:
            episodes.append(AlarmEpisode(started, item.timestamp))
            started = None
    if started is not None:
        episodes.append(AlarmEpisode(started, max(until, started), open=True))
    return tuple(episodes)


@dataclass(frozen=True)
class AlarmOutcome:
    """`first_alarm`: when it first went to ALARM (None: never); `returned_to_ok`: it went to
    ALARM and its last state is OK (None when it never alarmed); `ok_after_load_s`: seconds
    from the load's end to that last OK (negative when it was OK before the load ended)."""

    final_state: str | None
    first_alarm: float | None
    returned_to_ok: bool | None
    ok_at: float | None
    ok_after_load_s: float | None
    flaps: int


def alarm_outcome(history: Sequence[HistoryItem], load_end: float | None) -> AlarmOutcome:
    """Summarise one alarm's transitions against the end of the load."""
    ordered = sorted(history, key=lambda h: h.timestamp)
    alarms = [h.timestamp for h in ordered if h.new_state == ALARM]
    final = ordered[-1].new_state if ordered else None
    first = alarms[0] if alarms else None
    if first is None:
        return AlarmOutcome(final, None, None, None, None, 0)
    ok_at = ordered[-1].timestamp if final == OK else None
    after = ok_at - load_end if ok_at is not None and load_end is not None else None
    # A flap is every return to ALARM after the first one.
    return AlarmOutcome(final, first, final == OK, ok_at, after, len(alarms) - 1)
