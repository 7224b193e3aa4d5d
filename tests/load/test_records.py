"""Request records: from Locust's event arguments, and to and from a worker's report."""

from __future__ import annotations

import math

from rightsizer.load.records import RecordLog, RequestRecord, from_event, from_row


def test_from_event_keeps_everything_exactly() -> None:
    record = from_event(
        request_type="POST",
        name="/index.php?action=save",
        response_time=12.3456,
        response_length=512,
        exception=None,
        start_time=1000.25,
        now=2000.0,
    )
    assert record == RequestRecord(1000.25, "/index.php?action=save", "POST", 12.3456, True, 512)
    assert math.isclose(record.end, 1000.2623456)


def test_a_failure_and_a_client_without_start_time() -> None:
    record = from_event(
        request_type="GET",
        name="/x",
        response_time=250,
        response_length=None,
        exception=ConnectionError("refused"),
        start_time=None,
        now=100.0,
    )
    assert (record.ok, record.length, record.start) == (False, 0, 99.75)


def test_negative_or_broken_durations_become_zero() -> None:
    for bad in (-5.0, float("nan"), None):
        record = from_event(
            request_type="GET", name="/", response_time=bad, response_length=0,
            exception=None, start_time=1.0, now=2.0,
        )  # fmt: skip
        assert record.response_ms == 0.0


def test_rows_round_trip_and_foreign_rows_are_refused() -> None:
    record = RequestRecord(1.5, "/a", "GET", 3.25, False, 7)
    assert from_row(record.as_row()) == record
    assert from_row([1.0, "/a", "GET", 3.0, True]) is None
    assert from_row(["x", "/a", "GET", 3.0, True, 1]) is None
    assert from_row([float("inf"), "/a", "GET", 3.0, True, 1]) is None


def test_log_cursor() -> None:
    log = RecordLog()
    log.extend([RequestRecord(float(i), "/", "GET", 1.0, True, 0) for i in range(3)])
    fresh, cursor = log.since(0)
    assert (len(fresh), cursor) == (3, 3)
    log.add(RequestRecord(9.0, "/", "GET", 1.0, True, 0))
    fresh, cursor = log.since(cursor)
    assert [r.start for r in fresh] == [9.0] and cursor == 4
