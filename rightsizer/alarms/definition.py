"""An alarm definition: the PutMetricAlarm fields, parsed, checked and written back.

    alarm = AlarmDefinition.from_json(json.loads(Path("cpu.json").read_text()))
    alarm.to_json()   # what `aws cloudwatch put-metric-alarm --cli-input-json` accepts

The same field names work in `rightsizer.toml` as `[[alarm]]` tables (rightsizer.alarms.sources).
Errors name the field (`Dimensions[1].Value: ...`) and map to exit code 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rightsizer.alarms import fields
from rightsizer.alarms.state import ComparisonOperator, TreatMissingData
from rightsizer.errors import AlarmDefinitionError
from rightsizer.metrics.statistics import Basic, Statistic

KNOWN_FIELDS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Tags",
)
# Parts of PutMetricAlarm that rightsizer cannot evaluate; named so the error can say why.
UNSUPPORTED_FIELDS = ("Metrics", "ThresholdMetricId")
HIGH_RESOLUTION_PERIODS = (10, 20, 30)
ONE_DAY = 86_400


@dataclass(frozen=True)
class AlarmDefinition:
    """One CloudWatch metric alarm, checked; field names follow PutMetricAlarm."""

    name: str
    namespace: str
    metric_name: str
    statistic: Statistic
    period: int
    evaluation_periods: int
    threshold: float
    comparison: ComparisonOperator
    datapoints_to_alarm: int
    treat_missing_data: TreatMissingData = TreatMissingData.MISSING
    dimensions: tuple[tuple[str, str], ...] = ()
    description: str | None = None
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    unit: str | None = None
    evaluate_low_sample_count_percentile: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def evaluation_range(self) -> int:
        """Periods fetched at each evaluation: N plus two older ones (CloudWatch: 5 for N = 3)."""
        return self.evaluation_periods + 2

    @property
    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> AlarmDefinition:
        """Parse a PutMetricAlarm document; AlarmDefinitionError names the first bad field."""
        if not isinstance(doc, Mapping):
            raise AlarmDefinitionError("AlarmName", "the definition must be a JSON object")
        _check_keys(doc)
        statistic = _statistic(doc)
        period = _period(doc)
        n = fields.whole(doc, "EvaluationPeriods", low=1, high=100_000)
        if n is None:
            raise AlarmDefinitionError("EvaluationPeriods", "missing; it is required")
        limit = ONE_DAY if period < 3600 else 7 * ONE_DAY
        if n * period > limit:
            raise AlarmDefinitionError(
                "EvaluationPeriods",
                f"Period x EvaluationPeriods must not exceed {limit} s, got {n * period}",
            )
        m = fields.whole(doc, "DatapointsToAlarm", low=1, high=n)
        threshold = fields.number(doc, "Threshold")
        if threshold is None:
            raise AlarmDefinitionError("Threshold", "missing; it is required")
        operator = fields.choice(doc, "ComparisonOperator", [c.value for c in ComparisonOperator])
        if operator is None:
            raise AlarmDefinitionError("ComparisonOperator", "missing; it is required")
        treat = fields.choice(doc, "TreatMissingData", [t.value for t in TreatMissingData])
        low_sample = fields.choice(doc, "EvaluateLowSampleCountPercentile", ["evaluate", "ignore"])
        if low_sample is not None and not statistic.is_extended:
            raise AlarmDefinitionError(
                "EvaluateLowSampleCountPercentile", "only applies with an ExtendedStatistic (pNN)"
            )
        return cls(
            name=_required_text(doc, "AlarmName", 255),
            namespace=_required_text(doc, "Namespace", 255),
            metric_name=_required_text(doc, "MetricName", 255),
            statistic=statistic,
            period=period,
            evaluation_periods=n,
            threshold=threshold,
            comparison=ComparisonOperator(operator),
            datapoints_to_alarm=n if m is None else m,
            treat_missing_data=TreatMissingData(treat or "missing"),
            dimensions=fields.pairs(doc, "Dimensions", ("Name", "Value"), fields.MAX_DIMENSIONS),
            description=fields.text(doc, "AlarmDescription", limit=1024),
            actions_enabled=fields.flag(doc, "ActionsEnabled", True),
            alarm_actions=fields.actions(doc, "AlarmActions"),
            ok_actions=fields.actions(doc, "OKActions"),
            insufficient_data_actions=fields.actions(doc, "InsufficientDataActions"),
            unit=fields.text(doc, "Unit", limit=64),
            evaluate_low_sample_count_percentile=low_sample,
            tags=fields.pairs(doc, "Tags", ("Key", "Value"), 50),
        )

    def to_json(self, *, arn_actions_only: bool = False) -> dict[str, Any]:
        """The PutMetricAlarm document; `arn_actions_only` drops rightsizer's own actions
        (log, webhook:, command:, stop-run), which AWS would refuse."""
        doc: dict[str, Any] = {"AlarmName": self.name}
        if self.description is not None:
            doc["AlarmDescription"] = self.description
        doc["ActionsEnabled"] = self.actions_enabled
        for key, actions in (
            ("OKActions", self.ok_actions),
            ("AlarmActions", self.alarm_actions),
            ("InsufficientDataActions", self.insufficient_data_actions),
        ):
            kept = [a for a in actions if a.startswith("arn:")] if arn_actions_only else actions
            if kept:
                doc[key] = list(kept)
        doc["MetricName"] = self.metric_name
        doc["Namespace"] = self.namespace
        if self.statistic.is_extended:
            doc["ExtendedStatistic"] = self.statistic.name
        else:
            doc["Statistic"] = self.statistic.name
        if self.dimensions:
            doc["Dimensions"] = [{"Name": k, "Value": v} for k, v in self.dimensions]
        doc["Period"] = self.period
        if self.unit is not None:
            doc["Unit"] = self.unit
        doc["EvaluationPeriods"] = self.evaluation_periods
        doc["DatapointsToAlarm"] = self.datapoints_to_alarm
        doc["Threshold"] = self.threshold
        doc["ComparisonOperator"] = self.comparison.value
        doc["TreatMissingData"] = self.treat_missing_data.value
        if self.evaluate_low_sample_count_percentile is not None:
            doc["EvaluateLowSampleCountPercentile"] = self.evaluate_low_sample_count_percentile
        if self.tags:
            doc["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags]
        return doc

    def actions_for(self, state: str) -> tuple[str, ...]:
        """The actions of a transition into `state` (an AlarmState value)."""
        if not self.actions_enabled:
            return ()
        return {
            "ALARM": self.alarm_actions,
            "OK": self.ok_actions,
            "INSUFFICIENT_DATA": self.insufficient_data_actions,
        }[state]


def _check_keys(doc: Mapping[str, Any]) -> None:
    for key in doc:
        if key in UNSUPPORTED_FIELDS:
            raise AlarmDefinitionError(
                key, "metric math alarms are not supported; use MetricName, Namespace, Statistic"
            )
        if key not in KNOWN_FIELDS:
            raise AlarmDefinitionError(
                str(key), f"unknown parameter; must be one of {', '.join(KNOWN_FIELDS)}"
            )


def _required_text(doc: Mapping[str, Any], field: str, limit: int) -> str:
    value = fields.text(doc, field, limit=limit, required=True)
    assert value is not None
    return value


def _statistic(doc: Mapping[str, Any]) -> Statistic:
    plain, extended = doc.get("Statistic"), doc.get("ExtendedStatistic")
    if plain is not None and extended is not None:
        raise AlarmDefinitionError("Statistic", "give Statistic or ExtendedStatistic, not both")
    if plain is None and extended is None:
        raise AlarmDefinitionError("Statistic", "missing; give Statistic or ExtendedStatistic")
    if plain is not None:
        names = [b.value for b in Basic]
        return Statistic.parse(str(fields.choice(doc, "Statistic", names)))
    if not isinstance(extended, str):
        raise AlarmDefinitionError("ExtendedStatistic", f"expected a string, got {extended!r}")
    try:
        statistic = Statistic.parse(extended)
    except ValueError:
        statistic = Statistic()
    if not statistic.is_extended:
        raise AlarmDefinitionError(
            "ExtendedStatistic", f"expected a percentile p0..p100 such as p95, got {extended!r}"
        )
    return statistic


def _period(doc: Mapping[str, Any]) -> int:
    period = fields.whole(doc, "Period", low=1, high=ONE_DAY * 7)
    if period is None:
        raise AlarmDefinitionError("Period", "missing; it is required")
    if period not in HIGH_RESOLUTION_PERIODS and period % 60:
        raise AlarmDefinitionError(
            "Period", f"must be 10, 20, 30 or a multiple of 60 seconds, got {period}"
        )
    return period
