"""The fleet scraped as a Kubernetes cluster would be: a real Prometheus reads the fleet's
/metrics (cAdvisor- and kube-state-metrics-shaped series of real capped tasks) every second,
and `rightsizer run --host <HAProxy> --prometheus URL --pod-selector ...` loads the fleet and
reads its pods back from Prometheus.

The oracle is the fleet's own sampler: the same cgroups, read by another path (the task
sampler's CPUUtilization and MemoryUtilization, in the fleet's own store), over the same
steady window of each step.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rightsizer.fleet.fleet import Fleet
from rightsizer.fleet.spec import FleetSpec
from rightsizer.metrics.store import MetricKey, MetricStore
from tests.fleet.conftest import task_command
from tests.load.conftest import Finished, clean_env, rightsizer_command
from tests.metrics.prometheus_server import PrometheusServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.cgroups,
    pytest.mark.haproxy,
    pytest.mark.prometheus,
    pytest.mark.locust,
]
BURN = 0.4  # of the task's 0.25 vCPU, in CPU time, besides what the requests cost
READER = """
from locust import HttpUser, between, task


class Reader(HttpUser):
    wait_time = between(0.05, 0.15)

    @task
    def page(self):
        self.client.get("/")
"""
SELECTOR = 'namespace="rightsizer"'
TASKS = 2
USERS = 6


class FleetPrometheus(PrometheusServer):
    """Prometheus scraping the fleet's control endpoint every second, as it would scrape a
    node's kubelet and kube-state-metrics."""

    config = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: rightsizer-fleet
    metrics_path: /metrics
    static_configs: [{{targets: ["{node}"]}}]
"""

    def _scraped(self) -> bool:
        rates = self.query(f"rate(container_cpu_usage_seconds_total{{{SELECTOR}}}[4s])")
        limits = self.query(f"kube_pod_container_resource_limits{{{SELECTOR}}}")
        return len(rates) == TASKS and len(limits) == 2 * TASKS


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[Fleet, MetricStore]]:
    spec = FleetSpec(
        workdir=tmp_path / "fleet",
        tasks=TASKS,
        command=task_command("--burn", str(BURN), "--cpu", "0.25"),
    )
    with (
        MetricStore(tmp_path / "fleet.db") as store,
        Fleet(spec, store=store, ledger_dir=tmp_path / "ledger") as started,
    ):
        yield started, store


def labelled(labels: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


def exposition(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics page, by name and labels, as Prometheus's parser reads it."""
    return {
        (sample.name, labelled(sample.labels)): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def mean_in(store: MetricStore, key: MetricKey, window: tuple[float, float]) -> float:
    values = [v for _, v in store.samples(key, *window)]
    assert values, f"no {key.name} samples in {window}"
    return math.fsum(values) / len(values)


def test_a_run_reads_the_fleet_through_prometheus_as_its_sampler_does(
    fleet: tuple[Fleet, MetricStore], tmp_path: Path
) -> None:
    started, store = fleet
    assert started.control is not None and started.capped
    exposed = exposition(httpx.get(f"{started.control.url}/metrics", timeout=5).text)
    task_ids = sorted(view.task_id for view in started.running())
    for task_id in task_ids:
        pod = {"namespace": "rightsizer", "pod": task_id, "container": "task"}
        assert exposed[("container_cpu_usage_seconds_total", labelled(pod))] > 0
        assert exposed[("container_memory_working_set_bytes", labelled(pod))] > 0
        cpu = labelled(pod | {"resource": "cpu", "unit": "core"})
        memory = labelled(pod | {"resource": "memory", "unit": "byte"})
        assert exposed[("kube_pod_container_resource_limits", cpu)] == 0.25  # FleetSpec's
        assert exposed[("kube_pod_container_resource_limits", memory)] == 512 * 2**20
    node = started.control.url.removeprefix("http://")
    (tmp_path / "prometheus").mkdir()
    with FleetPrometheus(tmp_path / "prometheus", node) as prometheus:
        out = tmp_path / "runs"
        reader = tmp_path / "reader.py"
        reader.write_text(READER)
        done = subprocess.run(
            rightsizer_command(
                "run", "--host", started.url, "-f", str(reader), "--users", str(USERS),
                "--step-time", "8", "--cooldown", "1", "--prometheus", prometheus.url,
                "--pod-selector", SELECTOR, "--prometheus-step", "1", "--out", str(out),
                "--no-report",
            ),
            cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=90,
            check=False,
        )  # fmt: skip
    finished = Finished(done.returncode, done.stdout, done.stderr, out)
    assert finished.returncode == 0, finished.stderr
    assert f"Prometheus: {TASKS} pod(s) match; CPU limits for {TASKS}" in done.stderr
    target = finished.manifest()["target"]
    assert (target["kind"], target["tasks"]) == ("kubernetes", TASKS)
    assert target["prometheus"]["recording"]["pods"] == task_ids
    (step,) = finished.steps()
    window = (step["steady_start"] or step["start"], step["end"])
    service = {"ServiceName": "uploader"}
    sampled_cpu = mean_in(store, MetricKey.of("CPUUtilization", **service), window)
    sampled_memory = mean_in(store, MetricKey.of("MemoryUtilization", **service), window)
    # The tasks are busy (their burn, and the requests), so agreeing is not agreeing on nothing.
    assert sampled_cpu > BURN * 100 / 2
    # Two readings of the same cgroups' CPU time, over windows a scrape or two apart (seen
    # within 1% of each other; the margin is for a machine busy enough to delay scrapes).
    assert step["cpu_utilization"] == pytest.approx(sampled_cpu, rel=0.2, abs=3.0)
    assert step["memory_utilization"] == pytest.approx(sampled_memory, rel=0.1)
    answer = json.loads((finished.run_dir() / "answer.json").read_text())
    assert answer["users_per_task"] == USERS // TASKS
    assert not any("external target" in note for note in answer["notes"])
