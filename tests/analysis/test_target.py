from __future__ import annotations

from typing import Any

import pytest

from rightsizer.analysis.target import RecordedTarget, TargetKind
from rightsizer.manifest import Manifest
from tests.analysis.helpers import fleet

# What every manifest holds, whatever the target: the settings' defaults. Never read.
DEFAULTS = {"settings": {"tasks": 1, "cpu": 0.25, "memory": 512}}


def target_of(manifest: dict[str, Any]) -> RecordedTarget:
    """The target as the analysis reads it from a whole manifest.json document."""
    return RecordedTarget.from_json(Manifest.from_json(manifest).target)


def test_a_capped_fleet_is_described_by_what_it_reported() -> None:
    target = target_of({**DEFAULTS, "target": fleet(4)})
    assert (target.kind, target.tasks, target.cpu, target.memory) == (
        TargetKind.FLEET,
        4,
        0.25,
        512,
    )
    assert target.summary == "4 tasks (0.25 vCPU, 512 MiB)"


def test_a_host_target_has_no_tasks_whatever_the_settings_say() -> None:
    target = target_of({**DEFAULTS, "target": {"kind": "host", "url": "http://x"}})
    assert target.kind is TargetKind.HOST and target.tasks is None and target.cpu is None
    assert target.summary == "external target, tasks unknown"
    assert "0.25" not in target.caps and "512" not in target.caps


def test_an_ecs_service_counts_its_desired_tasks_and_names_the_resolution() -> None:
    ecs = {
        "kind": "ecs",
        "url": "https://uploader.example.com",
        "tasks": 4,
        "cloudwatch": {"cluster": "seed", "service": "uploader", "period": 60},
    }
    target = target_of({**DEFAULTS, "target": ecs})
    assert target.kind is TargetKind.ECS and target.tasks == 4 and target.cpu is None
    assert target.summary == (
        "4 tasks (ECS service seed/uploader, CloudWatch metrics at 60 s resolution)"
    )


def test_pods_read_from_prometheus_are_counted_as_tasks() -> None:
    pods = {
        "kind": "kubernetes",
        "url": "http://127.0.0.1:8080",
        "tasks": 3,
        "prometheus": {"url": "http://127.0.0.1:9090", "pod_selector": 'namespace="shop"',
                       "step": 15},
    }  # fmt: skip
    target = target_of({**DEFAULTS, "target": pods})
    assert target.kind is TargetKind.KUBERNETES and target.tasks == 3 and target.cpu is None
    assert target.summary == (
        '3 tasks (pods {namespace="shop"}, Prometheus metrics at 15 s resolution)'
    )
    unknown = target_of({"target": {"kind": "kubernetes", "tasks": None, "prometheus": "x"}})
    assert unknown.tasks is None and unknown.summary.startswith("tasks unknown (pods {?}")


def test_an_uncapped_fleet_says_uncapped() -> None:
    target = target_of({**DEFAULTS, "target": fleet(2, capped=False)})
    assert target.summary == "2 tasks, UNCAPPED"
    assert "UNCAPPED" in target.caps and "vCPU" not in target.caps


def test_a_fleet_that_did_not_confirm_its_caps_is_not_taken_at_its_word() -> None:
    raw = {k: v for k, v in fleet(1).items() if k != "capped"}
    assert target_of({"target": raw}).summary == (
        "1 task (0.25 vCPU, 512 MiB requested, not confirmed)"
    )


@pytest.mark.parametrize(
    "manifest",
    [{}, DEFAULTS, {"target": "fleet"}, {"target": ["fleet"]}, {"target": {"kind": "cloud"}}],
)
def test_an_unrecorded_target_is_unknown_not_the_defaults(manifest: dict[str, Any]) -> None:
    target = target_of(manifest)
    assert target.kind is TargetKind.UNKNOWN and target.tasks is None
    assert target.summary == "target not recorded"


def test_wrong_types_in_a_fleet_description_are_not_facts() -> None:
    raw = {"kind": "fleet", "tasks": "4", "cpu": True, "memory": -1, "capped": "no", "url": 3}
    target = target_of({"target": raw})
    assert (target.tasks, target.cpu, target.memory, target.capped, target.url) == (
        None,
        None,
        None,
        None,
        None,
    )
    listed = target_of({"target": {"kind": "fleet", "task_list": [{}, {}, {}]}})
    assert listed.tasks == 3
