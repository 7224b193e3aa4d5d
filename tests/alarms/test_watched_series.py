"""Which stored series an alarm reads."""

from __future__ import annotations

from rightsizer.alarms.watched_series import default_dimensions, series_key
from rightsizer.metrics.store import MetricKey
from tests.alarms.helpers import definition


def test_rightsizer_series_are_read_as_written() -> None:
    alarm = definition(
        Dimensions=[{"Name": "ServiceName", "Value": "uploader"}, {"Name": "TaskId", "Value": "2"}]
    )
    assert series_key(alarm) == MetricKey.of("CPUUtilization", ServiceName="uploader", TaskId="2")


def test_aws_alarms_read_the_local_series() -> None:
    ecs = definition(
        Namespace="AWS/ECS",
        Dimensions=[
            {"Name": "ClusterName", "Value": "prod"},
            {"Name": "ServiceName", "Value": "web"},
        ],
    )
    assert series_key(ecs) == MetricKey.of("CPUUtilization", ServiceName="web")
    elb = definition(
        Namespace="AWS/ApplicationELB",
        MetricName="HealthyHostCount",
        Dimensions=[{"Name": "LoadBalancer", "Value": "app/prod/123"}],
        ComparisonOperator="LessThanThreshold",
    )
    assert series_key(elb) == MetricKey.of("HealthyHostCount", LoadBalancer="rightsizer-lb")
    other = definition(Namespace="AWS/EC2", Dimensions=None)
    assert series_key(other) == MetricKey("AWS/EC2", "CPUUtilization", ())


def test_default_dimensions() -> None:
    assert default_dimensions("CPUUtilization") == {"ServiceName": "uploader"}
    assert default_dimensions("TargetResponseTime") == {"LoadBalancer": "rightsizer-lb"}
    assert default_dimensions("ClientResponseTime") == {}
