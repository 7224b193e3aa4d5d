"""Reason strings and reason data, shaped like CloudWatch's (users grep for them).

    Threshold Crossed: 1 out of the last 1 datapoints [30.2 (27/11/26 14:03:00)] was greater
    than the threshold (20.0) (minimum 1 datapoint for OK -> ALARM transition).

Numbers print as Java's Double.toString prints them (CloudWatch runs on the JVM): `20.0`,
`99.7027322404378`, `1.0E7`. Datapoint times are period starts, `dd/MM/yy HH:mm:ss` in UTC.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rightsizer.alarms.state import ComparisonOperator, TreatMissingData
from rightsizer.metrics.store import Datapoint

INITIAL_REASON = "Unchecked: Initial alarm creation"


def java_double(value: float) -> str:
    """`Double.toString`: shortest round-trip digits; plain between 1e-3 and 1e7, else E."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        # Python's repr is plain decimal with a fraction here, as Java's, and as short.
        return repr(float(value))
    # repr gives the shortest digits that read back to the same double, as Java 19+ does.
    digits_tuple = Decimal(repr(magnitude)).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple.digits))
    exponent = int(digits_tuple.exponent) + len(digits) - 1  # scientific exponent
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def cw_time(timestamp: float) -> str:
    """`dd/MM/yy HH:mm:ss` in UTC, as in CloudWatch's reasons."""
    return time.strftime("%d/%m/%y %H:%M:%S", time.gmtime(timestamp))


def iso_millis(timestamp: float) -> str:
    """`2026-11-27T14:03:00.000+0000`, as in CloudWatch's reason data and notifications."""
    whole = math.floor(timestamp)
    millis = min(999, round((timestamp - whole) * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}+0000"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _was(count: int) -> str:
    return "was" if count == 1 else "were"


def _listed(points: Sequence[Datapoint]) -> str:
    """`[30.2 (27/11/26 14:03:00), ...]`, newest first."""
    newest_first = sorted(points, key=lambda p: p.timestamp, reverse=True)
    return (
        "["
        + ", ".join(f"{java_double(p.value)} ({cw_time(p.timestamp)})" for p in newest_first)
        + "]"
    )


def crossed(
    points: Sequence[Datapoint],
    out_of: int,
    *,
    to_alarm: bool,
    operator: ComparisonOperator,
    threshold: float,
    needed: int,
) -> str:
    """The reason of a decision on real datapoints: `points` are those on the new state's
    side (breaching for ALARM, not breaching for OK) among the `out_of` evaluated."""
    side = operator.words if to_alarm else f"not {operator.words}"
    direction = "OK -> ALARM" if to_alarm else "ALARM -> OK"
    return (
        f"Threshold Crossed: {len(points)} out of the last {out_of} datapoints {_listed(points)} "
        f"{_was(len(points))} {side} the threshold ({java_double(threshold)}) "
        f"(minimum {_plural(needed, 'datapoint')} for {direction} transition)."
    )


def filled(
    points: Sequence[Datapoint],
    missing: int,
    *,
    breaching_side: bool,
    operator: ComparisonOperator,
    threshold: float,
    treat: TreatMissingData,
) -> str:
    """The reason of a decision where missing periods were filled (breaching/notBreaching).
    `points` are real datapoints, all on one side (`breaching_side`)."""
    treated = f"{_plural(missing, 'missing datapoint')} {_was(missing)} treated as [{treat.label}]."
    if not points:
        periods = _plural(missing, "period")
        return f"Threshold Crossed: no datapoints were received for {periods} and {treated}"
    side = operator.words if breaching_side else f"not {operator.words}"
    return (
        f"Threshold Crossed: {_plural(len(points), 'datapoint')} {_listed(points)} "
        f"{_was(len(points))} {side} the threshold ({java_double(threshold)}) and {treated}"
    )


def insufficient(unknown: int) -> str:
    """`Insufficient Data: 1 datapoint was unknown.`"""
    return f"Insufficient Data: {_plural(unknown, 'datapoint')} {_was(unknown)} unknown."


def reason_data(
    *,
    statistic: str,
    period: int,
    threshold: float,
    query_time: float,
    evaluated: Sequence[tuple[float, Datapoint | None]],
) -> dict[str, Any]:
    """CloudWatch's StateReasonData: `evaluated` is (period start, datapoint or None) of the
    evaluated periods; recentDatapoints lists the real values oldest first, evaluatedDatapoints
    every evaluated period newest first (a missing one has no value)."""
    ordered = sorted(evaluated, key=lambda item: item[0])
    data: dict[str, Any] = {"version": "1.0", "queryDate": iso_millis(query_time)}
    if ordered:
        data["startDate"] = iso_millis(ordered[0][0])
    data["statistic"] = statistic
    data["period"] = period
    data["recentDatapoints"] = [p.value for _, p in ordered if p is not None]
    data["threshold"] = threshold
    data["evaluatedDatapoints"] = [
        {"timestamp": iso_millis(start)}
        if p is None
        else {"timestamp": iso_millis(start), "value": p.value}
        for start, p in reversed(ordered)
    ]
    return data
