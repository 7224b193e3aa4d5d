"""Which stored series an alarm watches.

rightsizer's own series live in namespace `rightsizer` (see rightsizer.metrics.names). An alarm
written for AWS works here unchanged: `AWS/ECS` CPUUtilization / MemoryUtilization with
{ClusterName, ServiceName} reads the service-level series of that ServiceName, and the
`AWS/ApplicationELB` target metrics read the local load balancer's series. Any other namespace
is read as written (a series nobody records leaves the alarm in INSUFFICIENT_DATA, as in AWS).
"""

from __future__ import annotations

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey

# Written by the load runner, not the fleet's samplers: complete only up to its watermark.
CLIENT_METRICS = frozenset(
    {
        names.CLIENT_REQUEST_COUNT,
        names.CLIENT_FAILURE_COUNT,
        names.CLIENT_RPS,
        names.CLIENT_FAILURE_RATE,
        names.CLIENT_RESPONSE_TIME,
        names.CLIENT_USERS,
        names.GENERATOR_CPU,
    }
)
_ECS_METRICS = frozenset({names.CPU_UTILIZATION, names.MEMORY_UTILIZATION})
_ELB_METRICS = frozenset(
    {
        names.HEALTHY_HOST_COUNT,
        names.UNHEALTHY_HOST_COUNT,
        names.REQUEST_COUNT,
        names.TARGET_2XX,
        names.TARGET_3XX,
        names.TARGET_4XX,
        names.TARGET_5XX,
        names.TARGET_RESPONSE_TIME,
    }
)


def series_key(alarm: AlarmDefinition) -> MetricKey:
    """The MetricStore key the alarm's datapoints come from."""
    dims = alarm.dimension_map
    if alarm.namespace == "AWS/ECS" and alarm.metric_name in _ECS_METRICS:
        service = dims.get(names.SERVICE_DIMENSION, names.DEFAULT_SERVICE)
        return MetricKey.of(alarm.metric_name, **{names.SERVICE_DIMENSION: service})
    if alarm.namespace == "AWS/ApplicationELB" and alarm.metric_name in _ELB_METRICS:
        return MetricKey.of(alarm.metric_name, **{names.LB_DIMENSION: names.DEFAULT_LOAD_BALANCER})
    return MetricKey.from_parts(alarm.namespace, alarm.metric_name, dims)


def is_client_side(key: MetricKey) -> bool:
    """True for the series the load runner writes (rightsizer.load.client_series)."""
    return key.namespace == names.NAMESPACE and key.name in CLIENT_METRICS


def default_dimensions(metric_name: str) -> dict[str, str]:
    """The service-wide dimensions of one of rightsizer's series (for `alarm replay`)."""
    if metric_name in _ECS_METRICS or metric_name == names.RUNNING_TASK_COUNT:
        return {names.SERVICE_DIMENSION: names.DEFAULT_SERVICE}
    if metric_name in _ELB_METRICS:
        return {names.LB_DIMENSION: names.DEFAULT_LOAD_BALANCER}
    return {}
