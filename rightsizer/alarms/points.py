"""Raw samples from a CSV file, for `rightsizer alarm evaluate`.

    timestamp,value
    2026-11-27T14:03:05Z,30.2

One sample a row; timestamps are ISO 8601 (a time without an offset is UTC; other offsets are
converted); values are finite numbers. Errors name the file, the line and the column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rightsizer.errors import UsageError

if TYPE_CHECKING:
    from _csv import Reader

HEADER = ("timestamp", "value")


def parse_time(text: str, field: str) -> float:
    """Epoch seconds of an ISO 8601 time; UsageError naming `field` otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{field}: not an ISO 8601 time ({text!r}); write e.g. 2026-11-27T14:03:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso(timestamp: float) -> str:
    """`2026-11-27T14:03:00Z` (fractions of a second kept when there are any)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def read_points(path: Path) -> list[tuple[float, float]]:
    """(timestamp, value) samples of a `timestamp,value` CSV file, in file order."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return list(_rows(csv.reader(handle), str(path)))
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such file; give a CSV with a timestamp,value header"
        ) from None
    except UnicodeDecodeError:
        raise UsageError(
            f"{path}: not UTF-8 text; give a CSV with a timestamp,value header"
        ) from None
    except csv.Error as exc:
        raise UsageError(f"{path}: not a valid CSV file ({exc})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror})") from None


def _rows(reader: Reader, name: str) -> Iterator[tuple[float, float]]:
    header = next(reader, None)
    if header is None:
        raise UsageError(f"{name}: empty file; the first line must be the header timestamp,value")
    if tuple(h.strip().lower() for h in header) != HEADER:
        raise UsageError(
            f"{name}: line 1: header must be timestamp,value, got {','.join(header)!r}"
        )
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise UsageError(
                f"{name}: line {line}: expected 2 columns (timestamp,value), got {len(row)}"
            )
        timestamp = parse_time(row[0], f"{name}: line {line}: timestamp")
        yield timestamp, _value(row[1], f"{name}: line {line}: value")


def _value(text: str, field: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise UsageError(f"{field}: not a number ({text!r})") from None
    if not math.isfinite(value):
        raise UsageError(f"{field}: must be a finite number, got {text!r}")
    return value
