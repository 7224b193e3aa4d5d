"""The supervisor's control endpoint and its one client: real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rightsizer.errors import UnavailableError
from rightsizer.fleet.control_server import (
    SAMPLES_PATH,
    ControlServer,
    fetch_status,
    task_average,
)
from rightsizer.fleet.ports import free_port
from rightsizer.metrics import names
from rightsizer.metrics.prometheus import private_registry
from rightsizer.metrics.recent import Recent
from rightsizer.metrics.store import MetricKey, Sample
from tests.replies import serve_replies


def _cpu(task: str | None, value: float) -> Sample:
    dims = {"ServiceName": "uploader", **({"TaskId": task} if task else {})}
    return Sample(MetricKey.of(names.CPU_UTILIZATION, **dims), 9.5, value, "Percent")


@pytest.fixture
def control() -> Iterator[tuple[ControlServer, Recent, list[int]]]:
    recent, calls = Recent(), []

    def status() -> dict[str, Any]:
        calls.append(1)  # the heavy view: HAProxy or each task's health check
        return {"url": "http://127.0.0.1:1", "tasks": []}

    server = ControlServer(private_registry(recent), status, recent)
    server.start()
    try:
        yield server, recent, calls
    finally:
        server.stop()


def test_samples_serve_the_newest_tick_without_the_status_view(
    control: tuple[ControlServer, Recent, list[int]],
) -> None:
    server, recent, calls = control
    assert fetch_status(server.url, path=SAMPLES_PATH) == {"tick": None, "samples": []}
    recent.add(10.0, [_cpu("1", 30.0), _cpu("2", 50.0), _cpu(None, 30.0), _cpu(None, 50.0)])
    latest = fetch_status(server.url, path=SAMPLES_PATH)
    assert latest["tick"] == 10.0
    assert latest["samples"][0] == {
        "name": "CPUUtilization",
        "dimensions": {"ServiceName": "uploader", "TaskId": "1"},
        "timestamp": 9.5,
        "value": 30.0,
        "unit": "Percent",
    }
    assert task_average(latest) == 40.0
    assert calls == []  # polling the samples never asked for the status
    assert fetch_status(server.url)["url"] == "http://127.0.0.1:1"
    assert calls == [1]


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"samples": "x"},
        {"samples": [1, None, {"name": "CPUUtilization"}]},
        {"samples": [{"name": "CPUUtilization", "dimensions": {"TaskId": "1"}, "value": "9"}]},
        {"samples": [{"name": "CPUUtilization", "dimensions": {}, "value": 9.0}]},
    ],
)
def test_an_odd_samples_document_has_no_average(document: dict[str, Any]) -> None:
    assert task_average(document) is None


_REPLIES = {"/text": (200, b"hello"), "/list": (200, b"[1, 2]"), "/boom": (500, b"{}")}


@pytest.fixture
def odd_server() -> Iterator[str]:
    with serve_replies(_REPLIES) as url:
        yield url


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/text", r"sent no JSON object at http://127\.0\.0\.1:\d+/text$"),
        ("/list", "sent no JSON object"),
        ("/boom", "answered 500 at"),
        ("/missing", "answered 404 at"),
    ],
)
def test_bad_replies_are_one_line_errors(odd_server: str, path: str, message: str) -> None:
    with pytest.raises(UnavailableError, match=message):
        fetch_status(odd_server, timeout=5, path=path)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.org:80", "is not http on 127.0.0.1"),
        ("https://127.0.0.1:1", "is not http on 127.0.0.1"),
        ("127.0.0.1:8080", "is not http on 127.0.0.1"),
        ("http://127.0.0.1:notaport", "is invalid"),
    ],
)
def test_only_a_local_control_url_is_asked(url: str, message: str) -> None:
    with pytest.raises(UnavailableError, match=message):
        fetch_status(url, timeout=1)


def test_a_supervisor_that_is_gone_does_not_answer() -> None:
    port = free_port()
    with pytest.raises(UnavailableError, match=rf"does not answer at http://127.0.0.1:{port}/"):
        fetch_status(f"http://127.0.0.1:{port}", timeout=1)
