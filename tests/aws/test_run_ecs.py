"""`rightsizer run --host URL --ecs CLUSTER/SERVICE` end to end: a real HTTP target, real
Locust in a subprocess, and the emulator holding what ECS published during the run."""

from __future__ import annotations

import json
import math
import signal
import statistics
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.metrics.store import MetricKey, MetricStore
from tests.aws.agent import EcsAgent
from tests.aws.conftest import Aws
from tests.aws.seam import AwsProxy
from tests.aws.services import create_service, service_behind_a_target_group
from tests.load.conftest import Finished, clean_env, rightsizer_command, signalled_run
from tests.load.target_app import serve_in_thread

pytestmark = [pytest.mark.slow, pytest.mark.locust]
LB = "app/seed-alb/50dc6c495c0c9188"
TG = "targetgroup/seed-tg/73e2d6bc24d8a067"


@pytest.fixture
def target_url() -> Iterator[str]:
    server, _, url = serve_in_thread()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def run(tmp_path: Path, *args: str, timeout: float = 120) -> Finished:
    out = tmp_path / "runs"
    done = subprocess.run(
        rightsizer_command("run", *args, "--out", str(out), "--no-report"),
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Finished(done.returncode, done.stdout, done.stderr, out)


def test_a_run_records_the_service_cloudwatch_metrics(
    aws: Aws, tmp_path: Path, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"rightsizer-test-secret-{aws.prefix}"  # the emulator takes any
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    cluster = aws.name("seed")
    create_service(aws, cluster, "uploader")
    cloudwatch = aws.client("cloudwatch")
    deployed = ecs_alarm(cluster) | {"AlarmName": aws.name("cpu-high"), "Period": 10}
    cloudwatch.put_metric_alarm(**deployed)
    with EcsAgent(cloudwatch, cluster, "uploader") as agent, AwsProxy(aws.url) as proxy:
        # An account without cloudwatch:DescribeAlarmHistory: the run falls back on its polls.
        proxy.fail("DescribeAlarmHistory", "AccessDenied", "not authorized")
        evaluator = AlarmEvaluator(cloudwatch, deployed["AlarmName"], lambda: polls(proxy) >= 2)
        with evaluator:
            finished = run(
                tmp_path, "--host", target_url, "--users", "2", "--step-time", "3",
                "--cooldown", "1", "--ecs", f"{cluster}/uploader", "--alb", f"{LB}/{TG}",
                "--cloudwatch-period", "1", "--cloudwatch-wait", "20",
                "--endpoint-url", proxy.url, "--deployed-alarm", deployed["AlarmName"],
            )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    manifest = finished.manifest()
    assert manifest["target"]["kind"] == "ecs" and manifest["target"]["tasks"] == 1
    facts: dict[str, Any] = manifest["target"]["cloudwatch"]
    assert facts["period"] == 1 and facts["resolution"] == "high (sub-minute)"
    assert facts["region"] == "eu-west-1" and facts["endpoint_url"] == proxy.url
    assert proxy.calls["GetMetricData"] >= 1 and proxy.calls["DescribeAlarmHistory"] == 1
    # The deployed alarm: polled during the run, its ALARM (set mid-run) next to ours.
    agreement = json.loads((finished.run_dir() / "cloudwatch_alarm.json").read_text())
    assert agreement["source"] == "DescribeAlarms polls"
    assert "AccessDenied" in agreement["history_error"]
    alarm_polls = [p for p in agreement["polled"] if p["state"] == "ALARM"]
    to_alarm = [r for r in agreement["rows"] if r["new_state"] == "ALARM"]
    assert evaluator.played and alarm_polls and to_alarm
    # stamped when CloudWatch (here moto) says the state changed, not when it was polled
    assert to_alarm[0]["cloudwatch_time"] == alarm_polls[0]["updated"]
    assert facts["deployed_alarm"]["file"] == "cloudwatch_alarm.json"
    # The report names the service and the resolution, and shows both sides of the alarm.
    report = CliRunner().invoke(app, ["report", str(finished.run_dir())])
    assert report.exit_code == 0, report.stderr
    page = (finished.run_dir() / "report.html").read_text()
    assert f"1 task (ECS service {cluster}/uploader, CloudWatch metrics at 1 s resolution)" in page
    assert "The deployed alarm: CloudWatch's evaluation and rightsizer's" in page
    assert "History unavailable" in page and "AccessDenied" in page
    recording = facts["recording"]
    assert recording["complete"] is True
    # Nothing published the ALB's metrics: each is named, none holds the run up.
    assert sorted(recording["missing"]) == [
        "AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum",
        "AWS/ApplicationELB HealthyHostCount Average",
        "AWS/ApplicationELB RequestCount Sum",
        "AWS/ApplicationELB TargetResponseTime Average",
    ]
    start = math.floor(manifest["load_start"])
    end = math.floor(manifest["cooldown"]["end"])
    dims = {"ClusterName": cluster, "ServiceName": "uploader"}
    with MetricStore(finished.run_dir() / "metrics.db", readonly=True) as store:
        average = store.samples(MetricKey.of("CPUUtilization", "AWS/ECS", **dims))
        maximum = store.samples(
            MetricKey.of("CPUUtilization", "AWS/ECS", **dims, Statistic="Maximum")
        )
        memory = store.samples(MetricKey.of("MemoryUtilization", "AWS/ECS", **dims))
    # One datapoint for each whole second of the run in which the agent sent one (every 0.2 s:
    # nearly all of them; a busy machine may stall its thread past a second), each what it sent.
    published = {math.floor(t) for t, name, _ in agent.sent if name == "CPUUtilization"}
    seconds = [float(s) for s in range(start, end) if s in published]
    assert len(seconds) >= (end - start) / 2
    assert [ts - 0.5 for ts, _ in average] == seconds
    for ts, value in average:
        sent = agent.values("CPUUtilization", ts - 0.5, ts + 0.5)
        assert value == pytest.approx(statistics.mean(sent))
    for ts, value in maximum:
        assert value == max(agent.values("CPUUtilization", ts - 0.5, ts + 0.5))
    assert {v for _, v in memory} == {45.5}
    # steps.json takes the service's CPU from these series, as it does from a local fleet's.
    (step,) = finished.steps()
    assert step["cpu_utilization"] is not None
    assert min(v for _, v in average) <= step["cpu_utilization"] <= max(v for _, v in average)
    # `alarm replay` evaluates the deployed alarm's own series: the agent sent 20..36 %.
    alarm = tmp_path / "cpu-high.json"
    alarm.write_text(json.dumps(ecs_alarm(cluster)))
    replay = CliRunner().invoke(
        app,
        ["alarm", "replay", str(finished.run_dir()), "--alarm", str(alarm),
         "--threshold", "15,50", "--period", "10", "--json"],
    )  # fmt: skip
    assert replay.exit_code == 0, replay.stderr
    fired = {r["threshold"]: r["first_alarm_s"] for r in json.loads(replay.stdout)["rows"]}
    assert fired[15.0] is not None and fired[50.0] is None
    # The credentials came from the environment and went nowhere: no file, no output.
    written = [p for p in finished.run_dir().rglob("*") if p.is_file()]
    assert written and not [p for p in written if secret.encode() in p.read_bytes()]
    assert secret not in finished.stdout + finished.stderr


def polls(proxy: AwsProxy) -> int:
    return proxy.calls["DescribeAlarms"]


class AlarmEvaluator:
    """Plays CloudWatch's evaluator, which moto lacks: once `ready()` (the run has pulled the
    alarm and polled it once), SetAlarmState to ALARM."""

    def __init__(self, client: Any, name: str, ready: Callable[[], bool]) -> None:
        self.client, self.name, self.ready = client, name, ready
        self.played = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._play, daemon=True)

    def _play(self) -> None:
        while not self._done.wait(0.05):
            if self.ready():
                self.client.set_alarm_state(
                    AlarmName=self.name, StateValue="ALARM", StateReason="Threshold Crossed"
                )
                self.played = True
                return

    def __enter__(self) -> AlarmEvaluator:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)


def ecs_alarm(cluster: str) -> dict[str, Any]:
    return {
        "AlarmName": "cpu-high",
        "Namespace": "AWS/ECS",
        "MetricName": "CPUUtilization",
        "Dimensions": [
            {"Name": "ClusterName", "Value": cluster},
            {"Name": "ServiceName", "Value": "uploader"},
        ],
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 20,
        "ComparisonOperator": "GreaterThanThreshold",
    }


def test_steps_shorter_than_three_periods_are_refused_before_any_load(
    aws: Aws, tmp_path: Path, target_url: str
) -> None:
    finished = run(
        tmp_path, "--host", target_url, "--users", "2", "--step-time", "60",
        "--ecs", "seed/uploader",
    )  # fmt: skip
    assert finished.returncode == 2
    assert "--step-time: 60 s is under three CloudWatch periods" in finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1
    assert not finished.out.exists()  # no run directory: nothing started


def test_an_unknown_service_is_refused_before_any_load(
    aws: Aws, tmp_path: Path, target_url: str
) -> None:
    finished = run(
        tmp_path, "--host", target_url, "--users", "2", "--step-time", "180",
        "--ecs", f"{aws.name('none')}/uploader",
    )  # fmt: skip
    assert finished.returncode == 2
    assert "--ecs: no service 'uploader' in cluster" in finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1
    assert not finished.out.exists()


def desired_count(aws: Aws, cluster: str, service: str) -> int:
    reply = aws.client("ecs").describe_services(cluster=cluster, services=[service])
    return int(reply["services"][0]["desiredCount"])


def test_ecs_tasks_runs_once_per_count_and_restores_the_original(
    aws: Aws, tmp_path: Path, target_url: str
) -> None:
    cluster = aws.name("seed")
    create_service(aws, cluster, "uploader", desired=3)
    with EcsAgent(aws.client("cloudwatch"), cluster, "uploader"):
        finished = run(
            tmp_path, "--host", target_url, "--users", "1", "--step-time", "3",
            "--cooldown", "0", "--ecs", f"{cluster}/uploader", "--ecs-tasks", "1,2",
            "--cloudwatch-period", "1", "--cloudwatch-wait", "10",
            "--reset-cmd", "echo emptied EFS",
        )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    runs = sorted(finished.out.iterdir())
    desired = sorted(
        json.loads((r / "manifest.json").read_text())["target"]["cloudwatch"]["desired_tasks"]
        for r in runs
    )
    assert desired == [1, 2]
    for r in runs:  # the user's reset ran before each run, its output kept there
        assert (r / "reset-cmd.log").read_text() == "emptied EFS\n"
    assert desired_count(aws, cluster, "uploader") == 3
    assert "desired count restored to 3" in finished.stderr
    # The task counts are known, so `compare` divides by them as on a local fleet.
    compared = CliRunner().invoke(app, ["compare", str(runs[0]), str(runs[1])])
    assert compared.exit_code == 0, compared.stderr
    assert "per task: A with 1, B with 2" in compared.stdout


def test_sigterm_mid_run_restores_the_desired_count(
    aws: Aws, tmp_path: Path, target_url: str
) -> None:
    cluster = aws.name("seed")
    create_service(aws, cluster, "uploader", desired=3)

    def scaled_and_loading(out: Path) -> bool:
        started = any(out.glob("*/manifest.json"))
        return started and desired_count(aws, cluster, "uploader") == 1

    finished = signalled_run(
        tmp_path, "--host", target_url, "--users", "1", "--step-time", "60", "--cooldown", "0",
        "--ecs", f"{cluster}/uploader", "--ecs-tasks", "1", "--cloudwatch-period", "1",
        "--cloudwatch-wait", "0", "--no-report",
        ready=scaled_and_loading, signum=signal.SIGTERM, poll=0.2,
    )  # fmt: skip
    assert finished.returncode == 130, finished.stderr
    assert finished.manifest()["interrupted"] is True
    assert desired_count(aws, cluster, "uploader") == 3


def test_sigterm_while_waiting_for_a_stable_service_restores_the_count(
    aws: Aws, tmp_path: Path, target_url: str
) -> None:
    """The service never settles (its target group never gets a healthy target); SIGTERM
    during that wait, before any run, still puts the original count back."""
    service, _ = service_behind_a_target_group(aws, desired=3)
    finished = signalled_run(
        tmp_path, "--host", target_url, "--users", "1", "--step-time", "3",
        "--ecs", f"{service.cluster}/uploader", "--ecs-tasks", "1", "--cloudwatch-period", "1",
        ready=lambda out: desired_count(aws, service.cluster, "uploader") == 1,
        signum=signal.SIGTERM, poll=0.1,
    )  # fmt: skip
    assert finished.returncode == 130, finished.stderr
    assert "Traceback" not in finished.stderr
    assert desired_count(aws, service.cluster, "uploader") == 3
    assert not finished.out.exists()  # no run began


def test_sigterm_while_waiting_for_cloudwatch_ends_the_counts_and_restores(
    aws: Aws, tmp_path: Path, target_url: str
) -> None:
    """Nothing publishes, so the first run waits for CloudWatch (up to 300 s); a SIGTERM then
    ends that wait, starts no second count, and puts the original count back."""
    cluster = aws.name("seed")
    create_service(aws, cluster, "uploader", desired=3)
    with AwsProxy(aws.url) as proxy:
        finished = signalled_run(
            tmp_path, "--host", target_url, "--users", "1", "--step-time", "3",
            "--cooldown", "0", "--ecs", f"{cluster}/uploader", "--ecs-tasks", "1,2",
            "--cloudwatch-period", "1", "--cloudwatch-wait", "300", "--no-report",
            "--endpoint-url", proxy.url,
            ready=lambda out: proxy.calls["GetMetricData"] >= 1, signum=signal.SIGTERM,
        )  # fmt: skip
    assert finished.returncode == 130, finished.stderr
    (only,) = [p for p in finished.out.iterdir() if p.is_dir()]
    facts = json.loads((only / "manifest.json").read_text())["target"]["cloudwatch"]
    assert facts["desired_tasks"] == 1 and facts["recording"]["complete"] is False
    assert desired_count(aws, cluster, "uploader") == 3
