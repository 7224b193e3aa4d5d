"""`size --emit kubernetes`: the recommended size as a container's `resources` and a
HorizontalPodAutoscaler, each value with the measurement it came from.

CPU request: what a pod used at its planned load (users at the SLO x (1 - headroom)), so the
scheduler packs pods by what they use; CPU limit: the cap it was measured under, so a pod
behaves as measured. Memory request and limit: the peak seen x (1 + headroom), never below the
peak (a limit under it is an OOM kill waiting). The HPA's CPU target is the utilization of
that request at the planned load, so it adds pods when they pass it. No call is made to a
cluster.

    path = write_kubernetes(deployment_of(document), directory)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rightsizer.rundir import write_atomic
from rightsizer.sizing.deployment import Deployment
from rightsizer.yaml_text import Noted, yaml_document, yaml_lines

KUBERNETES = "kubernetes.yaml"
APP = "app"  # the Deployment the HPA scales: rename it to yours


def resources(plan: Deployment) -> dict[str, Any]:
    """The container's `resources` block."""
    used = f"{plan.target_cpu_pct:g}% of {plan.size.cpu:g} vCPU at {plan.planned_users} users"
    memory = Noted(
        f"{plan.memory_mb}Mi",
        f"peak {plan.peak_memory_mb:.0f} MiB seen x (1 + {plan.headroom:g} headroom) ({plan.run})",
    )
    return {
        "requests": {
            "cpu": Noted(f"{plan.cpu_request_millicores}m", f"measured: {used} ({plan.run})"),
            "memory": memory,
        },
        "limits": {
            "cpu": Noted(
                f"{round(plan.size.cpu * 1000)}m", f"the cap it was measured under ({plan.size})"
            ),
            "memory": memory,
        },
    }


def autoscaler(plan: Deployment) -> dict[str, Any]:
    """The HorizontalPodAutoscaler (autoscaling/v2) on CPU utilization of the request."""
    used_millicores = plan.target_cpu_pct / 100 * plan.size.cpu * 1000
    utilization = math.floor(used_millicores / plan.cpu_request_millicores * 100)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": APP},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": APP},
            "minReplicas": Noted(1, "raise it for availability"),
            "maxReplicas": Noted(
                plan.max_tasks,
                f"pods for {plan.target_users} users at {plan.planned_users} users per pod",
            ),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": Noted(
                                utilization,
                                f"% of the request a pod used at {plan.planned_users} users "
                                f"(its planned load; {plan.users_text} at the SLO)",
                            ),
                        },
                    },
                }
            ],
        },
    }


def write_kubernetes(plan: Deployment, directory: Path) -> Path:
    """Write kubernetes.yaml: the HPA document, then a second document holding the
    container's `resources:` block, to paste into the pod spec."""
    header = (
        f"rightsizer size: {plan.size} carried {plan.users_text} per pod at the SLO.",
        "First document: the HorizontalPodAutoscaler. Second: the container's resources.",
    )
    text = yaml_document(autoscaler(plan), header)
    text += "---\n" + "\n".join(yaml_lines({"resources": resources(plan)})) + "\n"
    path = directory / KUBERNETES
    write_atomic(path, text)
    return path
