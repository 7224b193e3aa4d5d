"""The CSV of raw samples that `alarm evaluate` reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightsizer.alarms.points import iso, parse_time, read_points
from rightsizer.errors import UsageError
from tests.alarms.helpers import T0


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "points.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_reads_iso_times_in_utc(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp,value\n"
        "2026-11-27T14:00:01Z,1.5\n"
        "2026-11-27T14:00:02+00:00,2\n"
        "2026-11-27T14:00:03,3e0\n"  # no offset: UTC
        "2026-11-27T16:00:04+02:00,4\n"
        "\n"
        "2026-11-27T14:00:05.250Z, 5 \n",
    )
    assert read_points(path) == [
        (T0 + 1, 1.5),
        (T0 + 2, 2.0),
        (T0 + 3, 3.0),
        (T0 + 4, 4.0),
        (T0 + 5.25, 5.0),
    ]


def test_a_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbftimestamp,value\r\n2026-11-27T14:00:01Z,1\r\n")
    assert read_points(path) == [(T0 + 1, 1.0)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("time,value\n", "line 1: header must be timestamp,value"),
        ("timestamp,value,extra\n", "header"),
        ("timestamp,value\nyesterday,1\n", "line 2: timestamp: not an ISO 8601 time"),
        ("timestamp,value\n2026-11-27T14:00:01Z,abc\n", "line 2: value: not a number"),
        ("timestamp,value\n2026-11-27T14:00:01Z,nan\n", "line 2: value: must be a finite number"),
        ("timestamp,value\n2026-11-27T14:00:01Z,inf\n", "finite"),
        ("timestamp,value\n2026-11-27T14:00:01Z\n", "line 2: expected 2 columns"),
        ("timestamp,value\n2026-11-27T14:00:01Z,1,2\n", "expected 2 columns"),
    ],
)
def test_bad_files_name_the_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError, match=message) as info:
        read_points(path)
    assert str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        read_points(tmp_path / "missing.csv")
    with pytest.raises(UsageError, match="not UTF-8"):
        read_points(write(tmp_path, b"timestamp,value\n\xff\xfe,1\n"))
    with pytest.raises(UsageError, match=r"not a valid CSV .*field larger than field limit"):
        read_points(write(tmp_path, "timestamp,value\n2026-11-27T14:00:01Z," + "9" * 200_000))


def test_iso_round_trip() -> None:
    assert iso(T0) == "2026-11-27T14:00:00Z"
    assert iso(T0 + 0.5) == "2026-11-27T14:00:00.500Z"
    assert parse_time(iso(T0 + 20), "--start") == T0 + 20
    with pytest.raises(UsageError, match=r"^--start: not an ISO 8601 time"):
        parse_time("noon", "--start")
