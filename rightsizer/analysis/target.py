"""What a run's load went to, as its manifest recorded it (manifest["target"]).

`rightsizer run` writes the target's own description (rightsizer.load.target `describe()`):
{"kind": "fleet", "url", "tasks", "cpu", "memory", "capped", ...} for a fleet it started, or
{"kind": "host", "url"} for `--host`; with --ecs {"kind": "ecs", "tasks", "cloudwatch"}, with
--prometheus {"kind": "kubernetes", "tasks": the pods matching when it began, "prometheus"}.
manifest["settings"] is not read for this: it holds the
defaults (1 task, 0.25 vCPU, 512 MiB) whatever the target was, so a --host run would be
reported as one capped task.

    target = RecordedTarget.from_json(manifest.target)    # a rightsizer.manifest.Manifest's
    target.summary   # "4 tasks (0.25 vCPU, 512 MiB)", "1 task, UNCAPPED", "external target, ..."
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

HOST_SUMMARY = "external target, tasks unknown"
UNCAPPED = "UNCAPPED"


class TargetKind(Enum):
    FLEET = "fleet"
    HOST = "host"
    ECS = "ecs"  # --host with --ecs: an ECS service, its task count and CloudWatch metrics
    KUBERNETES = "kubernetes"  # --host with --prometheus: the pods counted, their metrics
    UNKNOWN = "unknown"  # the run stopped before its target started, or an older manifest


# A service measured where it runs: how its caps read, the source of its metrics.
_SERVICES = {
    TargetKind.ECS: ("ECS service {}", "CloudWatch"),
    TargetKind.KUBERNETES: ("pods {{{}}}", "Prometheus"),
}


@dataclass(frozen=True)
class RecordedTarget:
    """The facts a fleet reported about itself; None where it did not say. `capped` is False
    when the fleet ran its tasks without CPU or memory limits (no cgroup controller)."""

    kind: TargetKind = TargetKind.UNKNOWN
    url: str | None = None
    tasks: int | None = None
    cpu: float | None = None
    memory: float | None = None
    capped: bool | None = None
    # ECS: "CLUSTER/SERVICE" and the resolution of the CloudWatch metrics the run read;
    # Kubernetes: the pod selector and the resolution of the Prometheus queries.
    service: str | None = None
    resolution: str | None = None

    @classmethod
    def from_json(cls, raw: Any) -> RecordedTarget:
        """Parse manifest["target"] as any version wrote it; what it does not say is None."""
        if not isinstance(raw, Mapping):
            return cls()
        url = raw.get("url") if isinstance(raw.get("url"), str) else None
        if raw.get("kind") == TargetKind.HOST.value:
            return cls(TargetKind.HOST, url)
        if raw.get("kind") == TargetKind.ECS.value:
            return cls._ecs(raw, url)
        if raw.get("kind") == TargetKind.KUBERNETES.value:
            return cls._kubernetes(raw, url)
        if raw.get("kind") != TargetKind.FLEET.value:
            return cls(url=url)
        tasks = _positive(raw.get("tasks"))
        listed = raw.get("task_list")
        if tasks is None and isinstance(listed, list) and listed:
            tasks = float(len(listed))
        capped = raw.get("capped")
        return cls(
            TargetKind.FLEET,
            url,
            tasks=int(tasks) if tasks is not None and tasks.is_integer() else None,
            cpu=_positive(raw.get("cpu")),
            memory=_positive(raw.get("memory")),
            capped=capped if isinstance(capped, bool) else None,
        )

    @classmethod
    def _ecs(cls, raw: Mapping[str, Any], url: str | None) -> RecordedTarget:
        tasks = _positive(raw.get("tasks"))
        cloudwatch = raw.get("cloudwatch")
        facts = cloudwatch if isinstance(cloudwatch, Mapping) else {}
        cluster, service = facts.get("cluster"), facts.get("service")
        period = _positive(facts.get("period"))
        return cls(
            TargetKind.ECS,
            url,
            tasks=int(tasks) if tasks is not None and tasks.is_integer() else None,
            service=f"{cluster}/{service}" if cluster and service else None,
            resolution=None if period is None else f"{period:g} s",
        )

    @classmethod
    def _kubernetes(cls, raw: Mapping[str, Any], url: str | None) -> RecordedTarget:
        tasks = _positive(raw.get("tasks"))
        prometheus = raw.get("prometheus")
        facts = prometheus if isinstance(prometheus, Mapping) else {}
        selector, step = facts.get("pod_selector"), _positive(facts.get("step"))
        return cls(
            TargetKind.KUBERNETES,
            url,
            tasks=int(tasks) if tasks is not None and tasks.is_integer() else None,
            service=selector if isinstance(selector, str) and selector else None,
            resolution=None if step is None else f"{step:g} s",
        )

    @property
    def caps(self) -> str:
        """The tasks' limits in words: "0.25 vCPU, 512 MiB", "UNCAPPED", or why unknown."""
        if self.kind is TargetKind.HOST:
            return "limits unknown"
        if self.kind in _SERVICES:
            what, metrics = _SERVICES[self.kind]
            return (
                f"{what.format(self.service or '?')}, {metrics} metrics at "
                f"{self.resolution or 'an unrecorded'} resolution"
            )
        if self.kind is TargetKind.UNKNOWN:
            return "target not recorded"
        if self.capped is False:
            return f"{UNCAPPED}: no CPU or memory limit"
        limits = ", ".join(
            text
            for text in (
                f"{self.cpu:g} vCPU" if self.cpu is not None else "",
                f"{self.memory:g} MiB" if self.memory is not None else "",
            )
            if text
        )
        if self.capped is None:
            return f"{limits or 'limits'} requested, not confirmed"
        return limits or "limits not recorded"

    @property
    def summary(self) -> str:
        """One phrase for the report's header and headline."""
        if self.kind is TargetKind.HOST:
            return HOST_SUMMARY
        if self.kind is TargetKind.UNKNOWN:
            return "target not recorded"
        count = "tasks unknown" if self.tasks is None else plural(self.tasks, "task")
        if self.capped is False:
            return f"{count}, {UNCAPPED}"
        return f"{count} ({self.caps})"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _positive(raw: Any) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) and value > 0 else None
