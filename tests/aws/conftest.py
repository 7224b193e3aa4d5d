"""An AWS API emulator for the tests: moto's server on a loopback port, once per session.

Every test that calls AWS takes `aws`: it points the standard chain at dummy credentials and
AWS_ENDPOINT_URL at the emulator for that test only, so no call can reach a real endpoint (the
fixture checks that each client it hands out resolves to the emulator).
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from rightsizer.aws.connection import AwsConnection

REGION = "eu-west-1"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """The emulator's base URL (http://127.0.0.1:PORT), started on port 0."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass(frozen=True)
class Aws:
    """The emulator as one test sees it: its URL, a connection to it, and a unique prefix for
    the names the test creates (the emulator lives for the whole session)."""

    url: str
    connection: AwsConnection
    prefix: str

    def client(self, service: str) -> Any:
        client = self.connection.client(service)
        assert client.meta.endpoint_url == self.url, "a client escaped the emulator"
        return client

    def name(self, stem: str) -> str:
        return f"{self.prefix}-{stem}"


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    """Dummy credentials and the emulator's endpoint for this test's process and children."""
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
                     "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                     "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):  # fmt: skip
        monkeypatch.delenv(variable, raising=False)
    for variable in [v for v in os.environ if v.startswith("AWS_ENDPOINT_URL_")]:
        monkeypatch.delenv(variable)  # a service's own endpoint would win over AWS_ENDPOINT_URL
    empty = tmp_path / "aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    return Aws(moto_url, AwsConnection.build(None, None), uuid.uuid4().hex[:8])


def moto_reset(url: str) -> None:
    """Forget everything the emulator holds (its own API, not AWS's)."""
    request = urllib.request.Request(
        f"{url}/moto-api/reset", data=json.dumps({}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        reply.read()
