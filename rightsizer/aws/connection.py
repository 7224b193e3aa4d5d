"""Where AWS calls go: a region and an optional endpoint (an emulator), and the clients.

    connection = AwsConnection.build(region="eu-west-1", endpoint_url=None)
    with aws_errors("DescribeAlarms"):
        connection.client("cloudwatch").describe_alarms(AlarmNames=["cpu-high"])

Credentials come only from boto3's standard chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE, the
instance or task role); this module never reads, passes or prints them. `AWS_ENDPOINT_URL`
(read by botocore itself) or `endpoint_url` points every client at an emulator. Throttled
calls are retried by botocore's "standard" retry mode: exponential backoff with jitter, up to
MAX_ATTEMPTS tries.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rightsizer.errors import RightsizerError, UnavailableError, UsageError

# boto3 is imported inside the functions that call AWS, never with this module: a run imports
# Locust (whose gevent must patch ssl before anything imports it) after the flags are parsed.
MAX_ATTEMPTS = 6
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"


class AwsError(RightsizerError):
    """AWS answered a call with an error; `code` is AWS's (ClusterNotFoundException, ...)."""

    def __init__(self, call: str, code: str, message: str) -> None:
        super().__init__(f"{call}: {code}: {message}".rstrip(": "))
        self.code = code


@dataclass(frozen=True)
class AwsConnection:
    """A region and, for an emulator, an endpoint URL (None: AWS's own, or AWS_ENDPOINT_URL).
    `region` None: not resolved yet (`resolved()` asks boto3's chain)."""

    region: str | None
    endpoint_url: str | None = None

    @classmethod
    def flags(cls, region: str | None, endpoint_url: str | None) -> AwsConnection:
        """Checked flags, without importing boto3: UsageError when the endpoint is not an
        http(s) URL. The region may still be None."""
        if endpoint_url is not None:
            parts = urlsplit(endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise UsageError(
                    f"--endpoint-url: {endpoint_url!r} is not an http(s) URL; "
                    "give one like http://127.0.0.1:5000"
                )
        return cls(region, endpoint_url)

    @classmethod
    def build(cls, region: str | None, endpoint_url: str | None) -> AwsConnection:
        """`flags(...).resolved()`: checked, with a region."""
        return cls.flags(region, endpoint_url).resolved()

    def resolved(self) -> AwsConnection:
        """This connection with its region: the flag's, else boto3's (AWS_REGION,
        AWS_DEFAULT_REGION, the profile). UsageError when there is none."""
        import boto3  # noqa: PLC0415  # see MAX_ATTEMPTS

        region = self.region or boto3.session.Session().region_name
        if not region:
            raise UsageError("--region: no AWS region; give --region or set AWS_REGION")
        return AwsConnection(region, self.endpoint_url)

    @property
    def endpoint(self) -> str | None:
        """The endpoint the clients use when not AWS's own: the flag, else AWS_ENDPOINT_URL."""
        return self.endpoint_url or os.environ.get(ENDPOINT_VARIABLE) or None

    def client(self, service: str) -> Any:
        """A boto3 client of `service` ("cloudwatch", "ecs", "elbv2") with retries on throttling."""
        import boto3  # noqa: PLC0415  # see MAX_ATTEMPTS
        from botocore.config import Config  # noqa: PLC0415

        config = Config(
            region_name=self.region,
            retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
        return boto3.session.Session().client(
            service, endpoint_url=self.endpoint_url, config=config
        )

    def describe(self) -> dict[str, Any]:
        """JSON-ready facts for a manifest: where the calls went, never who made them."""
        return {"region": self.region, "endpoint_url": self.endpoint}


@contextlib.contextmanager
def aws_errors(call: str) -> Iterator[None]:
    """Turn botocore's errors inside the block into one-line rightsizer errors naming `call`:
    no credentials -> UsageError; unreachable endpoint -> UnavailableError; an error answer
    -> AwsError with AWS's code and message."""
    from botocore.exceptions import (  # noqa: PLC0415  # see MAX_ATTEMPTS
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise UsageError(
            f"{call}: no AWS credentials; set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run where a role is attached"
        ) from None
    except NoRegionError:
        raise UsageError(f"{call}: no AWS region; give --region or set AWS_REGION") from None
    except EndpointConnectionError as exc:
        raise UnavailableError(f"{call}: cannot reach {exc.kwargs.get('endpoint_url')}") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Error"), error.get("Message", "")
        raise AwsError(call, code, message) from None
    except BotoCoreError as exc:
        raise UnavailableError(f"{call}: {exc}") from None
