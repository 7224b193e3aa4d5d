"""`rightsizer size`: bad sizes refused in one line; a short real sweep of two sizes (real
cgroups, HAProxy, Locust), its sizes.json and the settings it emits, read back."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest

from rightsizer.sizing.sizes_document import SizesDocument
from rightsizer.sizing.task_size import TaskSize
from tests.load.conftest import clean_env, rightsizer_command

yaml = pytest.importorskip("yaml")  # PyYAML comes with uvicorn[standard]; used to read back


def size_cli(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        rightsizer_command("size", *args, "--out", str(tmp_path / "runs")),
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--sizes", "0.25/768"), "--sizes: 0.25/768: Fargate's 0.25 vCPU task takes 512, 1024"),
        (("--sizes", "0.25/512", "--platform", "ecs"), "--platform: 'ecs'; give one of"),
        (("--sizes", "0.25/512", "--emit", "helm"), "--emit: 'helm'; give one of ecs"),
        (("--sizes", "0.25/512", "--price-gb-hour", "-1"), "--price-gb-hour: expected"),
        (("--sizes", "0.25/512", "--headroom", "1"), "--headroom: 1;"),
        (("--sizes", "512/1024", "--platform", "kubernetes"), "--sizes: 512/1024: this machine"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    done = size_cli(tmp_path, *args, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: " + says), done.stderr
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.slow
@pytest.mark.cgroups
@pytest.mark.haproxy
@pytest.mark.locust
def test_two_sizes_measured_priced_and_emitted(tmp_path: Path) -> None:
    done = size_cli(
        tmp_path,
        "--sizes", "0.25/512,1/2048", "--quick", "--step-time", "3", "--max-steps", "2",
        "--search-from", "4", "--no-report", "--target-users", "100",
        "--price-vcpu-hour", "0.1", "--price-gb-hour", "0.01",
        "--emit", "ecs", "--emit", "kubernetes",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [directory] = (tmp_path / "runs").iterdir()
    sized = SizesDocument.from_json(json.loads((directory / "sizes.json").read_text()))
    assert [row.size for row in sized.rows] == [TaskSize(0.25, 512), TaskSize(1, 2048)]
    said = "vCPU-hour from --price-vcpu-hour; GB-hour from --price-gb-hour"
    assert sized.prices.source == said
    assert f"prices: {said}" in done.stdout
    for row in sized.rows:
        measured = row.measured
        assert measured.run_dir is not None and Path(measured.run_dir).is_dir()
        assert measured.users_per_task is not None and measured.users_per_task >= 1
        assert measured.peak_memory_mb is not None and measured.peak_memory_mb > 0
        assert measured.peak_memory_mb <= measured.size.memory_mb
        steps = json.loads((Path(measured.run_dir) / "steps.json").read_text())["steps"]
        assert {s["users"] for s in steps} >= {4}
        # priced by hand: 0.1 x vCPU + 0.01 x GB a task-hour, 30% headroom
        assert row.cost is not None
        task_hour = 0.1 * measured.size.cpu + 0.01 * measured.size.memory_mb / 1024
        assert row.cost.per_1000_users_hour == pytest.approx(
            task_hour / (measured.users_per_task * 0.7) * 1000
        )
        assert row.cost.tasks == math.ceil(100 / (measured.users_per_task * 0.7) - 1e-9)
    # the 1-vCPU task ran two uploader processes, the 0.25-vCPU one a single one
    assert [row.measured.workers for row in sized.rows] == [1, 2]
    big_run = sized.rows[1].measured.run_dir
    assert big_run is not None
    logs = "".join(p.read_text() for p in Path(big_run).rglob("*.log"))
    assert "2 workers" in logs
    recommended = sized.recommended_row
    assert recommended is not None and recommended.cost is not None
    assert sized.sentence().splitlines()[0] in done.stdout
    fragment = json.loads((directory / "ecs-task-definition.json").read_text())
    assert fragment["cpu"] == str(round(recommended.size.cpu * 1024))
    assert fragment["memory"] == str(recommended.size.memory_mb)
    template = yaml.safe_load((directory / "ecs-scaling.yaml").read_text())
    scaling = template["Resources"]["ScalableTarget"]["Properties"]
    assert scaling["MaxCapacity"] == recommended.cost.tasks
    config = template["Resources"]["CpuTargetTracking"]["Properties"][
        "TargetTrackingScalingPolicyConfiguration"
    ]
    assert 0 < config["TargetValue"] <= max(p[1] for p in recommended.measured.cpu_curve)
    assert sized.sentence() in (directory / "sizes.html").read_text().replace("&#39;", "'")
    hpa, container = yaml.safe_load_all((directory / "kubernetes.yaml").read_text())
    assert hpa["spec"]["maxReplicas"] == recommended.cost.tasks
    memory_mi = int(container["resources"]["limits"]["memory"].removesuffix("Mi"))
    assert memory_mi >= (recommended.measured.peak_memory_mb or math.inf)
