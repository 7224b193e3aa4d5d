"""The client seam: region and endpoint from flags or the standard chain, errors in one line."""

from __future__ import annotations

import pytest

from rightsizer.aws.connection import AwsConnection, AwsError, aws_errors
from rightsizer.errors import UnavailableError, UsageError
from tests.aws.conftest import REGION, Aws


def test_clients_go_to_the_emulator_named_by_aws_endpoint_url(aws: Aws) -> None:
    for service in ("cloudwatch", "ecs", "elbv2"):
        assert aws.client(service).meta.endpoint_url == aws.url
    assert aws.connection.region == REGION
    assert aws.connection.describe() == {"region": REGION, "endpoint_url": aws.url}


def test_the_endpoint_flag_wins_over_the_environment(aws: Aws) -> None:
    connection = AwsConnection.build("us-east-2", "http://127.0.0.1:9")
    client = connection.client("cloudwatch")
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.region_name == "us-east-2"


def test_an_unreachable_endpoint_is_one_line_unavailable(aws: Aws) -> None:
    connection = AwsConnection.build(None, "http://127.0.0.1:9")  # discard port: refused
    client = connection.client("cloudwatch")
    with (
        pytest.raises(UnavailableError, match=r"^DescribeAlarms: cannot reach"),
        aws_errors("DescribeAlarms"),
    ):
        client.describe_alarms()


def test_no_credentials_is_a_usage_error(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(UsageError, match="no AWS credentials"), aws_errors("DescribeAlarms"):
        AwsConnection.build(None, None).client("cloudwatch").describe_alarms()


def test_an_error_answer_names_the_call_and_aws_code(aws: Aws) -> None:
    ecs = aws.client("ecs")
    expected = r"^DescribeServices: ClusterNotFoundException"
    with pytest.raises(AwsError, match=expected), aws_errors("DescribeServices"):
        ecs.describe_services(cluster=aws.name("none"), services=["x"])


def test_bad_flags_are_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="--endpoint-url"):
        AwsConnection.build("eu-west-1", "localhost:5000")
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(UsageError, match="--region"):
        AwsConnection.build(None, None)
