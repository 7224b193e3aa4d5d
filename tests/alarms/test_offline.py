"""`alarm evaluate` as a library call: range defaults, limits and the JSON shape."""

from __future__ import annotations

import pytest

from rightsizer.alarms.offline import evaluate_offline
from rightsizer.errors import UsageError
from tests.alarms.helpers import T0, definition


def test_range_defaults_to_the_samples_periods() -> None:
    doc = evaluate_offline(definition(Period=10), [(T0 + 12, 30.0), (T0 + 25, 10.0)])
    assert [e["time"] for e in doc["evaluations"]] == [
        "2026-11-27T14:00:10Z",
        "2026-11-27T14:00:20Z",
        "2026-11-27T14:00:30Z",
    ]
    assert [e["state"] for e in doc["evaluations"]] == ["INSUFFICIENT_DATA", "ALARM", "OK"]
    assert doc["transitions"] == [
        {
            "time": "2026-11-27T14:00:20Z",
            "from": "INSUFFICIENT_DATA",
            "to": "ALARM",
            "reason": doc["evaluations"][1]["reason"],
        },
        {
            "time": "2026-11-27T14:00:30Z",
            "from": "ALARM",
            "to": "OK",
            "reason": doc["evaluations"][2]["reason"],
        },
    ]


def test_start_and_end_are_rounded_to_boundaries() -> None:
    doc = evaluate_offline(definition(Period=10), [(T0 + 12, 30.0)], T0 - 5, T0 + 31)
    assert [e["time"][-3:] for e in doc["evaluations"]] == ["00Z", "10Z", "20Z", "30Z"]


def test_empty_and_unbounded() -> None:
    with pytest.raises(UsageError, match="no samples"):
        evaluate_offline(definition(), [])
    doc = evaluate_offline(definition(), [], T0, T0 + 120)
    assert {e["state"] for e in doc["evaluations"]} == {"INSUFFICIENT_DATA"}
    assert doc["transitions"] == []
    with pytest.raises(UsageError, match=r"^--start: after --end"):
        evaluate_offline(definition(), [], T0 + 60, T0)
    with pytest.raises(UsageError, match=r"^--end: too many periods"):
        evaluate_offline(definition(Period=10), [(T0, 1.0)], T0, T0 + 1e8)
