"""The words of an alarm: its states, how it compares, and how it treats missing data.

Values are spelled as PutMetricAlarm and DescribeAlarms spell them, so `AlarmState("ALARM")`
and `ComparisonOperator("GreaterThanThreshold")` read straight from a definition or a history.
"""

from __future__ import annotations

from enum import Enum


class AlarmState(Enum):
    """The three states of a CloudWatch metric alarm."""

    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class ComparisonOperator(Enum):
    """How a datapoint is compared with the threshold; `breaches(v, t)` is the ALARM side."""

    GREATER_THAN = "GreaterThanThreshold"
    GREATER_THAN_OR_EQUAL = "GreaterThanOrEqualToThreshold"
    LESS_THAN = "LessThanThreshold"
    LESS_THAN_OR_EQUAL = "LessThanOrEqualToThreshold"

    def breaches(self, value: float, threshold: float) -> bool:
        """True when `value` is on the ALARM side: GreaterThanThreshold breaches(21, 20)."""
        match self:
            case ComparisonOperator.GREATER_THAN:
                return value > threshold
            case ComparisonOperator.GREATER_THAN_OR_EQUAL:
                return value >= threshold
            case ComparisonOperator.LESS_THAN:
                return value < threshold
            case ComparisonOperator.LESS_THAN_OR_EQUAL:
                return value <= threshold
        raise AssertionError(self)

    @property
    def words(self) -> str:
        """As CloudWatch's reasons say it: `greater than or equal to`."""
        return _WORDS[self]

    @property
    def symbol(self) -> str:
        """As PromQL writes it: `>=`."""
        return _SYMBOLS[self]

    @property
    def is_upper_bound(self) -> bool:
        """True for the GreaterThan operators (a higher threshold is a later alarm)."""
        return self in (ComparisonOperator.GREATER_THAN, ComparisonOperator.GREATER_THAN_OR_EQUAL)


_WORDS = {
    ComparisonOperator.GREATER_THAN: "greater than",
    ComparisonOperator.GREATER_THAN_OR_EQUAL: "greater than or equal to",
    ComparisonOperator.LESS_THAN: "less than",
    ComparisonOperator.LESS_THAN_OR_EQUAL: "less than or equal to",
}
_SYMBOLS = {
    ComparisonOperator.GREATER_THAN: ">",
    ComparisonOperator.GREATER_THAN_OR_EQUAL: ">=",
    ComparisonOperator.LESS_THAN: "<",
    ComparisonOperator.LESS_THAN_OR_EQUAL: "<=",
}


class TreatMissingData(Enum):
    """What a period without samples counts as when fewer than N real datapoints exist."""

    MISSING = "missing"
    NOT_BREACHING = "notBreaching"
    BREACHING = "breaching"
    IGNORE = "ignore"

    @property
    def label(self) -> str:
        """How CloudWatch's reasons name the treatment: `[Breaching]`, `[NonBreaching]`."""
        return "Breaching" if self is TreatMissingData.BREACHING else "NonBreaching"
