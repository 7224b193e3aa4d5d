from __future__ import annotations

from rightsizer.alarms.history import HistoryItem
from rightsizer.analysis.alarm_episodes import AlarmEpisode, alarm_episodes, alarm_outcome


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


def test_an_open_episode_ends_at_until() -> None:
    episodes = alarm_episodes(HISTORY[:2], until=90)
    assert episodes == (AlarmEpisode(40, 90, open=True),)


def test_outcome_after_the_load() -> None:
    outcome = alarm_outcome(HISTORY, load_end=100)
    assert outcome.returned_to_ok is True
    assert (outcome.first_alarm, outcome.ok_at, outcome.ok_after_load_s) == (40, 130, 30)
    assert outcome.flaps == 1


def test_an_alarm_that_stays_in_alarm_did_not_return() -> None:
    outcome = alarm_outcome(HISTORY[:4], load_end=100)
    assert outcome.returned_to_ok is False and outcome.final_state == "ALARM"


def test_an_alarm_that_never_fired_has_no_return() -> None:
    outcome = alarm_outcome(HISTORY[:1], load_end=100)
    assert outcome.returned_to_ok is None and outcome.first_alarm is None
    assert alarm_outcome([], load_end=None).final_state is None
