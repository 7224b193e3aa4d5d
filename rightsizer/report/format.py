"""How numbers read in the report, the comparison and the terminal: one place, one style.

ms(3100.0) == "3.10 s"; ms(212.4) == "212 ms"; clock(75) == "1:15"; rps(4.62) == "4.62";
users(585.7) == "585"; pct(87.26, 1) == "87.3%" (percentages: one decimal at most)
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from rightsizer.analysis.comparison import Difference, Estimate, Measure

NONE = "–"


def ms(value: float | None) -> str:
    """A duration given in milliseconds: "212 ms", "3.10 s", "12.4 s"."""
    if value is None:
        return NONE
    if abs(value) < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.2f} s" if abs(value) < 10_000 else f"{value / 1000:.1f} s"


def rps(value: float | None) -> str:
    """Requests per second with three significant digits at most: "0.42", "4.62", "12.8"."""
    if value is None:
        return NONE
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:.{digits}f}"


def pct(value: float | None, digits: int = 0) -> str:
    """A percentage; the pages use at most one decimal: pct(87.26, 1) == "87.3%"."""
    return NONE if value is None else f"{value:.{digits}f}%"


def users(value: float | None) -> str:
    """Users as a whole number, rounded down as the answer rounds them: users(460.9) == "460"."""
    return NONE if value is None else f"{math.floor(value)}"


def count(value: int | None) -> str:
    return NONE if value is None else f"{value:,}"


def number(value: float | None, digits: int = 1) -> str:
    return NONE if value is None else f"{value:.{digits}f}"


def clock(seconds: float) -> str:
    """Seconds since the run started as m:ss (h:mm:ss past an hour); "-0:05" before it."""
    sign = "-" if seconds < 0 else ""
    whole = math.floor(abs(seconds) + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"


def utc(epoch: float | None) -> str:
    if epoch is None:
        return NONE
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def measure(kind: Measure, value: float | None) -> str:
    """A comparison figure in its own unit."""
    if kind is Measure.RPS:
        return f"{rps(value)} rps" if value is not None else NONE
    if kind in (Measure.FAILURES, Measure.CPU):
        return pct(value, 1)
    return ms(value)


def interval(kind: Measure, estimate: Estimate) -> str:
    """ "[low .. high]" or "" without an interval."""
    if estimate.low is None or estimate.high is None:
        return ""
    low, high = measure(kind, estimate.low), measure(kind, estimate.high)
    low_number, _, low_unit = low.rpartition(" ")
    if low_number and high.endswith(" " + low_unit):
        low = low_number  # one unit for both ends: "[-332 .. 23 ms]"
    elif low.endswith("%") and high.endswith("%"):
        low = low[:-1]
    return f"[{low} .. {high}]"


def signed(kind: Measure, value: float | None) -> str:
    if value is None:
        return NONE
    text = measure(kind, abs(value))
    return ("+" if value > 0 else "-" if value < 0 else "±") + text


def sentence(users: int, difference: Difference) -> str:
    """ "20 users: p95 3.86 s -> 829 ms" (the issue's own example shape)."""
    kind = difference.measure
    return (
        f"{users} users: {kind.label} {measure(kind, difference.a.value)} -> "
        f"{measure(kind, difference.b.value)}"
    )


def verdict(difference: Difference) -> str:
    """ "better", "worse" or "no clear change" (the interval of the change contains 0)."""
    if not difference.significant or difference.delta.value is None:
        return "no clear change" if difference.significant is False else ""
    lower = difference.delta.value < 0
    return "better" if lower == difference.measure.lower_is_better else "worse"
