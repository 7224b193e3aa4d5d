from __future__ import annotations

from rightsizer.alarms.history import HistoryItem
from rightsizer.analysis.alarm_episodes import (
    AlarmEpisode,
    alarm_episodes,
    alarm_outcome,
    returned_to_ok,
)


def item(ts: float, old: str, new: str) -> HistoryItem:
    return HistoryItem("cpu", ts, old, new, "reason", {})


HISTORY = [
    item(10, "INSUFFICIENT_DATA", "OK"),
    item(40, "OK", "ALARM"),
    item(60, "ALARM", "OK"),
    item(70, "OK", "ALARM"),
    item(130, "ALARM", "OK"),
]


def test_episodes_are_the_alarm_intervals() -> None:
    assert alarm_episodes(HISTORY, until=200) == (AlarmEpisode(40, 60), AlarmEpisode(70, 130))
    assert alarm_episodes(list(reversed(HISTORY)), until=200) == alarm_episodes(HISTORY, 200)


def test_an_open_episode_ends_at_until() -> None:
    episodes = alarm_episodes(HISTORY[:2], until=90)
    assert episodes == (AlarmEpisode(40, 90, open=True),)


def test_back_to_ok_after_the_load_follows_the_shared_outcome() -> None:
    assert returned_to_ok(alarm_outcome(HISTORY, load_end=100)) is True
    # In ALARM when the load ended and never OK afterwards: not back.
    assert returned_to_ok(alarm_outcome(HISTORY[:4], load_end=100)) is False
    # OK again before the load ended (and still OK at its end): back.
    assert returned_to_ok(alarm_outcome(HISTORY[:3], load_end=100)) is True


def test_an_alarm_that_never_fired_has_no_return() -> None:
    assert returned_to_ok(alarm_outcome(HISTORY[:1], load_end=100)) is None
    assert returned_to_ok(alarm_outcome([], load_end=100)) is None
