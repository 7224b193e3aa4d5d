"""Pods' CPU and memory read from a real Prometheus server into a metric store.

Prometheus (/usr/bin/prometheus) scrapes, every second, a loopback stand-in for a node's kubelet
(cAdvisor) and kube-state-metrics: that HTTP endpoint is the protocol seam. The oracle is the
figures it serves (tests/metrics/prometheus_server.PODS), worked out by hand below.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.errors import UnavailableError, UsageError
from rightsizer.metrics.prometheus_api import PrometheusApi
from rightsizer.metrics.prometheus_source import PodSelector, PrometheusSource, record
from rightsizer.metrics.store import MetricKey, MetricStore
from tests.load.conftest import Finished, clean_env, rightsizer_command
from tests.load.target_app import serve_in_thread
from tests.metrics.prometheus_server import MIB, Node, PrometheusServer
from tests.waiting import poll_until

SHOP = 'namespace="shop",pod=~"uploader-.*"'
# By hand from PODS: cores and working set summed over each pod's containers, limits summed
# over the containers that have one (uploader-b's sidecar has none, uploader-c no limit at all).
CORES = {"uploader-a": 0.12, "uploader-b": 0.07, "uploader-c": 0.05}
MEMORY = {"uploader-a": 256 * MIB, "uploader-b": 136 * MIB, "uploader-c": 64 * MIB}
CPU_PERCENT = {"uploader-a": 40.0, "uploader-b": 28.0}  # 0.12 / 0.30, 0.07 / 0.25
MEMORY_PERCENT = {"uploader-a": 50.0, "uploader-b": 26.5625}  # 256 / 512, 136 / 512 MiB


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    workdir = tmp_path_factory.mktemp("prometheus")
    with Node() as node, PrometheusServer(workdir, node.address) as server:
        yield server


def scraped_for(prometheus: PrometheusServer, seconds: int) -> bool:
    """Whether Prometheus holds `seconds` of the node's scrapes (one a second)."""
    found = prometheus.query(
        f'count_over_time(container_memory_working_set_bytes{{pod="uploader-a",container="app"}}'
        f"[{seconds + 1}s])"
    )
    return bool(found) and float(found[0]["value"][1]) >= seconds  # type: ignore[index]


def source(url: str, selector: str = SHOP, **api: float) -> PrometheusSource:
    return PrometheusSource(PrometheusApi(url, **api), PodSelector.parse(selector), step=1)


@pytest.mark.prometheus
def test_the_check_counts_pods_and_limits(prometheus: PrometheusServer) -> None:
    check = source(prometheus.url).check()
    assert (check.pods, check.cpu_limited, check.memory_limited) == (3, 2, 2)
    everything = source(prometheus.url, '{namespace=~".+"}').check()
    assert everything.pods == 5  # braces are accepted; the other namespace and cart-1 now in


@pytest.mark.prometheus
def test_a_bad_selector_is_one_line_with_prometheus_words(prometheus: PrometheusServer) -> None:
    with pytest.raises(UsageError, match=r"^--pod-selector: Prometheus refused") as bad:
        source(prometheus.url, "namespace=shop").check()
    assert "parse error" in str(bad.value) and "\n" not in str(bad.value)
    with pytest.raises(UsageError, match="no container_cpu_usage_seconds_total series match"):
        source(prometheus.url, 'namespace="nowhere"').check()


def test_an_unreachable_prometheus_is_one_line_after_bounded_tries() -> None:
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(UnavailableError, match=r"cannot reach .*, 4 tries$"):
        source(f"http://127.0.0.1:{port}", backoff=0.01).check()


@pytest.mark.prometheus
def test_a_long_range_is_asked_in_pieces(prometheus: PrometheusServer) -> None:
    api = PrometheusApi(prometheus.url)
    expr = 'container_memory_working_set_bytes{pod="uploader-a",container="app"}'
    end = float(int(time.time()))
    # 30,000 one-second steps: one query would exceed Prometheus's 11,000 points a series.
    (long,) = api.query_range(expr, end - 30_000, end, 1)
    (short,) = api.query_range(expr, end - 5, end, 1)
    assert [p for p in long.points if p[0] >= end - 5] == list(short.points)
    assert {v for _, v in long.points} == {200 * MIB}


@pytest.mark.slow
@pytest.mark.locust
@pytest.mark.prometheus
def test_a_run_records_the_pods_into_steps(prometheus: PrometheusServer, tmp_path: Path) -> None:
    # Enough scrapes that every rate in the steps' windows spans whole scrape intervals.
    poll_until(lambda: scraped_for(prometheus, 4), 30, "four seconds of scrapes")
    server, _, target = serve_in_thread()
    out = tmp_path / "runs"
    try:
        done = subprocess.run(
            rightsizer_command(
                "run", "--host", target, "--users", "2", "--step-time", "4", "--cooldown", "1",
                "--prometheus", prometheus.url, "--pod-selector", SHOP,
                "--prometheus-step", "1", "--out", str(out), "--no-report",
            ),
            cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    finished = Finished(done.returncode, done.stdout, done.stderr, out)
    assert finished.returncode == 0, finished.stderr
    assert "Prometheus: 3 pod(s) match; CPU limits for 2, memory limits for 2" in done.stderr
    assert "no kube-state-metrics CPU limit for uploader-c" in done.stderr
    facts = finished.manifest()["target"]["prometheus"]
    assert facts["recording"]["pods"] == ["uploader-a", "uploader-b", "uploader-c"]
    assert facts["pod_selector"] == SHOP and facts["step"] == 1
    (step,) = finished.steps()
    # steps.json reads the pods as it reads a fleet's tasks: the mean of both pods' samples,
    # the busiest pod's at the top.
    assert step["cpu_utilization"] == pytest.approx((40.0 + 28.0) / 2, abs=1.0)
    assert step["cpu_utilization_max"] == pytest.approx(40.0, abs=1.0)
    assert step["memory_utilization"] == pytest.approx((50.0 + 26.5625) / 2)
    assert (finished.run_dir() / "answer.json").is_file()
    bare = {"ServiceName": "uploader", "TaskId": "uploader-c"}
    with MetricStore(finished.run_dir() / "metrics.db", readonly=True) as store:
        keys = store.keys()
    assert MetricKey.of("CPUCores", **bare) in keys
    assert MetricKey.of("CPUUtilization", **bare) not in keys


# After the run: by now Prometheus holds the seconds of scrapes this test waits for.
@pytest.mark.prometheus
def test_pods_are_recorded_under_the_fleet_names(
    prometheus: PrometheusServer, tmp_path: Path
) -> None:
    poll_until(lambda: scraped_for(prometheus, 8), 30, "eight seconds of scrapes")
    end = time.time()
    with MetricStore(tmp_path / "metrics.db") as store:
        recording = record(source(prometheus.url), store, end - 4, end)
        keys = store.keys(namespace="rightsizer")
        got = {(k.name, k.dimension_map.get("TaskId")): store.samples(k) for k in keys}
    pods = ("uploader-a", "uploader-b", "uploader-c")
    assert recording.pods == pods
    assert recording.cpu_limited == recording.memory_limited == ("uploader-a", "uploader-b")
    # Neither the other namespace, nor cart-1, nor the pod-level and pause cgroups.
    assert set(got) == (
        {("CPUCores", p) for p in pods} | {("MemoryWorkingSet", p) for p in pods}
        | {("CPUUtilization", p) for p in CPU_PERCENT} | {("CPUUtilization", None)}
        | {("MemoryUtilization", p) for p in MEMORY_PERCENT} | {("MemoryUtilization", None)}
        | {("RunningTaskCount", None)}
    )  # fmt: skip
    for pod in pods:
        cores = got["CPUCores", pod]
        assert len(cores) >= 4
        assert statistics.median(v for _, v in cores) == pytest.approx(CORES[pod], rel=1e-3)
        assert {v for _, v in got["MemoryWorkingSet", pod]} == {MEMORY[pod]}
    for pod, percent in CPU_PERCENT.items():
        utilization = dict(got["CPUUtilization", pod])
        assert statistics.median(utilization.values()) == pytest.approx(percent, rel=1e-3)
        for ts, used in got["CPUCores", pod]:  # every point: cores over the same limit
            assert utilization[ts] == pytest.approx(used / CORES[pod] * percent)
    for pod, percent in MEMORY_PERCENT.items():
        assert {v for _, v in got["MemoryUtilization", pod]} == {percent}
    # Service level: one sample per pod with a limit per point, as the fleet writes them.
    service = got["CPUUtilization", None]
    assert set(Counter(ts for ts, _ in service).values()) == {2}
    assert sorted({v for _, v in got["MemoryUtilization", None]}) == [26.5625, 50.0]
    assert {v for _, v in got["RunningTaskCount", None]} == {3}
    cpu_note, memory_note = recording.notes()
    assert "CPU limit for uploader-c:" in cpu_note and "CPUCores only" in cpu_note
    assert "memory limit for uploader-c:" in memory_note and "MemoryWorkingSet" in memory_note


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--pod-selector", SHOP], "--pod-selector: only with --prometheus URL"),
        (["--prometheus", "http://127.0.0.1:9090"], "--prometheus: needs --pod-selector"),
        (["--prometheus", "prometheus:9090", "--pod-selector", SHOP], "is not an http(s) URL"),
        (["--prometheus", "http://127.0.0.1:9090", "--pod-selector", " {} "],
         "--pod-selector: give label matchers"),
        (["--prometheus", "http://127.0.0.1:9090", "--pod-selector", SHOP,
          "--prometheus-step", "0"], "--prometheus-step: give 1 to 300 seconds"),
    ],
)  # fmt: skip
def test_bad_flags_are_one_line_before_anything_starts(
    args: list[str], fragment: str, tmp_path: Path
) -> None:
    host = ["--host", "http://127.0.0.1:1"]
    result = CliRunner().invoke(
        app, ["run", "--users", "1", "--step-time", "5", "--out", str(tmp_path), *host, *args]
    )
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and fragment in line
    assert not any(tmp_path.iterdir())


def test_prometheus_needs_a_host(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "--users", "1", "--step-time", "5", "--out", str(tmp_path),
              "--prometheus", "http://127.0.0.1:9090", "--pod-selector", SHOP],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--prometheus: needs --host URL" in result.stderr


class Flaky(BaseHTTPRequestHandler):
    """A Prometheus API that is starting up: 503 (its words) on the first `failures` calls."""

    failures = 2
    calls: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Flaky.calls.append(self.path)
        body: dict[str, Any]
        if len(Flaky.calls) <= Flaky.failures:
            status, body = 503, {"status": "error", "errorType": "unavailable"}
            body["error"] = "Service Unavailable"
        else:
            found = [{"metric": {"pod": "p"}, "value": [1.5, "2"]}]
            status, body = 200, {"status": "success", "data": {"result": found}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


@pytest.mark.parametrize(("failures", "answered"), [(3, True), (4, False)])
def test_an_unready_prometheus_is_retried_a_bounded_number_of_times(
    failures: int, answered: bool
) -> None:
    Flaky.failures, Flaky.calls = failures, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = PrometheusApi(f"http://127.0.0.1:{server.server_address[1]}", backoff=0.01)
    try:
        if answered:
            (series,) = api.query("up")
            assert series.label_map == {"pod": "p"} and series.points == ((1.5, 2.0),)
        else:
            with pytest.raises(UnavailableError, match=r"answered 503 \(unavailable: Service"):
                api.query("up")
    finally:
        server.shutdown()
        server.server_close()
    assert len(Flaky.calls) == 4  # four tries at most: three failures and the answer, or four
