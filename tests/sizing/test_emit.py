"""`--emit ecs` and `--emit kubernetes`: parsed back (JSON, YAML) and checked against the
measurements they came from, worked by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rightsizer.errors import UsageError
from rightsizer.sizing.deployment import deployment_of
from rightsizer.sizing.ecs_settings import write_ecs
from rightsizer.sizing.kubernetes_settings import write_kubernetes
from rightsizer.sizing.prices import Prices
from rightsizer.sizing.sizes_document import SizesDocument, build_sizes
from tests.sizing.test_sizes_document import measured

yaml = pytest.importorskip("yaml")  # PyYAML comes with uvicorn[standard]; used to read back

RUN = "/runs/x-size-0.5-1024"


def document(**figures: Any) -> SizesDocument:
    """0.5 vCPU / 1024 MiB carried 40 users per task; CPU 20% at 10 users, 80% at 40; peak
    memory 200 MiB; the alarm rule gave 55% at 30 users."""
    values: dict[str, Any] = {
        "cpu_curve": ((10.0, 20.0), (40.0, 80.0)),
        "peak_memory_mb": 200.0,
        "alarm_threshold": 55.0,
        "alarm_users": 30,
        "run_dir": RUN,
    }
    values.update(figures)
    return build_sizes(
        [measured(0.5, 1024, 40, **values)], Prices(0.04, 0.004, "t"),
        target_users=1000, headroom=0.3,
    )  # fmt: skip


def test_ecs_settings_carry_the_measured_figures(tmp_path: Path) -> None:
    fragment_path, scaling_path = write_ecs(deployment_of(document()), tmp_path)
    assert json.loads(fragment_path.read_text()) == {
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
    }
    text = scaling_path.read_text()
    template = yaml.safe_load(text)
    resources = template["Resources"]
    target = resources["CpuTargetTracking"]["Properties"]
    config = target["TargetTrackingScalingPolicyConfiguration"]
    # planned load: floor(40 x 0.7) = 28 users; the curve there: 20 + (18 / 30) x 60 = 56%
    assert config["TargetValue"] == 56
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "ECSServiceAverageCPUUtilization"
    )
    # 1000 users at 28 a task: ceil(35.7) = 36 tasks
    assert resources["ScalableTarget"]["Properties"]["MaxCapacity"] == 36
    alarm = resources["CpuHighAlarm"]["Properties"]
    assert (alarm["Threshold"], alarm["Namespace"], alarm["MetricName"]) == (
        55,
        "AWS/ECS",
        "CPUUtilization",
    )
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    # every figure names the measurement it came from
    for line in text.splitlines():
        if line.strip().startswith(("TargetValue:", "Threshold:", "MaxCapacity:")):
            assert "  # " in line and ("users" in line), line
    assert f"({RUN})" in text


def test_no_alarm_threshold_leaves_the_alarm_out(tmp_path: Path) -> None:
    _, scaling = write_ecs(deployment_of(document(alarm_threshold=None)), tmp_path)
    template = yaml.safe_load(scaling.read_text())
    assert "CpuHighAlarm" not in template["Resources"]
    assert "No alarm" in scaling.read_text()


def test_kubernetes_resources_and_hpa(tmp_path: Path) -> None:
    path = write_kubernetes(deployment_of(document()), tmp_path)
    text = path.read_text()
    hpa, container = yaml.safe_load_all(text)
    # CPU at the planned load: 56% of 0.5 vCPU = 280m; memory: 200 x 1.3 = 260 Mi
    assert container["resources"]["requests"] == {"cpu": "280m", "memory": "260Mi"}
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "260Mi"}
    assert hpa["kind"] == "HorizontalPodAutoscaler" and hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["maxReplicas"] == 36
    target = hpa["spec"]["metrics"][0]["resource"]["target"]
    assert target == {"type": "Utilization", "averageUtilization": 100}
    for key in ("cpu:", "memory:", "averageUtilization:", "maxReplicas:"):
        lines = [ln for ln in text.splitlines() if ln.strip().startswith(key)]
        assert lines and all("  # " in ln for ln in lines), key


def test_memory_is_never_below_the_peak_seen(tmp_path: Path) -> None:
    plan = deployment_of(document(peak_memory_mb=300.4))
    assert plan.memory_mb == 391  # ceil(300.4 x 1.3 = 390.52)
    assert plan.memory_mb >= 300.4


def test_nothing_to_emit_without_a_recommended_size() -> None:
    over = document(peak_memory_mb=1000.0)  # over 70% of 1024 MiB: not recommended
    with pytest.raises(UsageError, match="nothing to emit"):
        deployment_of(over)
