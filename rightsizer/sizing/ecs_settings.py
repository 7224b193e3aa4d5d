"""`size --emit ecs`: the recommended size as ECS settings, each value with the measurement it
came from.

Two files: `ecs-task-definition.json`, the fragment of a task definition (cpu, memory,
Fargate) to merge into yours; `ecs-scaling.yaml`, a CloudFormation template with the
service's scalable target, a target-tracking policy on ECSServiceAverageCPUUtilization at the
CPU the task used at its planned load, and the CloudWatch alarm on AWS/ECS CPUUtilization at
the recommended threshold (60 s, 1 of 1). No call is made to AWS.

    paths = write_ecs(deployment_of(document), directory)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rightsizer.analysis.threshold import (
    ALARM_PERIOD_S,
    DATAPOINTS_TO_ALARM,
    GROWTH_PCT,
    REACTION_S,
)
from rightsizer.rundir import write_atomic
from rightsizer.sizing.deployment import Deployment
from rightsizer.yaml_text import Noted, yaml_document

TASK_DEFINITION = "ecs-task-definition.json"
SCALING = "ecs-scaling.yaml"


def task_definition(plan: Deployment) -> dict[str, Any]:
    """The task-definition fields of the size, as register-task-definition takes them."""
    return {
        "requiresCompatibilities": ["FARGATE"],
        "cpu": str(plan.size.cpu_units),
        "memory": str(plan.size.memory_mb),
    }


def scaling_template(plan: Deployment) -> dict[str, Any]:
    """The CloudFormation template (as a tree with Noted values) of the scaling settings."""
    users = plan.users_per_task
    target = Noted(
        plan.target_cpu_pct,
        f"CPU % measured at {plan.planned_users} users per task = {plan.users_text} at the SLO x "
        f"(1 - {plan.headroom:g} headroom), on {plan.size}'s CPU-users curve ({plan.run})",
    )
    resources: dict[str, Any] = {
        "ScalableTarget": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ServiceNamespace": "ecs",
                "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": {"Fn::Sub": "service/${ClusterName}/${ServiceName}"},
                "MinCapacity": Noted(1, "raise it for availability (one task per zone)"),
                "MaxCapacity": Noted(
                    plan.max_tasks,
                    f"tasks for {plan.target_users} users at {plan.planned_users} users per "
                    f"task ({plan.users_text} at the SLO, {plan.headroom:g} headroom)",
                ),
            },
        },
        "CpuTargetTracking": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": {"Fn::Sub": "${ServiceName}-cpu-target"},
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": {"Ref": "ScalableTarget"},
                "TargetTrackingScalingPolicyConfiguration": {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                    },
                    "TargetValue": target,
                },
            },
        },
    }
    if plan.alarm_threshold is not None:
        resources["CpuHighAlarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": {"Fn::Sub": "${ServiceName}-cpu-high"},
                "Namespace": "AWS/ECS",
                "MetricName": "CPUUtilization",
                "Dimensions": [
                    {"Name": "ClusterName", "Value": {"Ref": "ClusterName"}},
                    {"Name": "ServiceName", "Value": {"Ref": "ServiceName"}},
                ],
                "Statistic": "Average",
                "Period": ALARM_PERIOD_S,
                "EvaluationPeriods": DATAPOINTS_TO_ALARM,
                "DatapointsToAlarm": DATAPOINTS_TO_ALARM,
                "Threshold": Noted(
                    plan.alarm_threshold,
                    f"CPU % measured at {plan.alarm_users} users per task = U* - g x T with "
                    f"U* {users}, g {GROWTH_PCT:g}% of U* a minute, T {REACTION_S:g} s "
                    f"({plan.run})",
                ),
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "missing",
            },
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Scaling for a {plan.size.cpu:g} vCPU / {plan.size.memory_mb} MiB "
        "task, from rightsizer's measurements",
        "Parameters": {
            "ClusterName": {"Type": "String"},
            "ServiceName": {"Type": "String"},
        },
        "Resources": resources,
    }


def write_ecs(plan: Deployment, directory: Path) -> list[Path]:
    """Write both files into `directory`; their paths."""
    fragment = directory / TASK_DEFINITION
    write_atomic(fragment, json.dumps(task_definition(plan), indent=2) + "\n")
    scaling = directory / SCALING
    header: tuple[str, ...] = (
        f"rightsizer size: {plan.size} carried {plan.users_text} per task at the SLO;",
        f"task definition: cpu {plan.size.cpu_units}, memory {plan.size.memory_mb} "
        f"({TASK_DEFINITION}).",
    )
    if plan.alarm_threshold is None:
        header += ("No alarm: the threshold rule found no load early enough (see sizes.json).",)
    write_atomic(scaling, yaml_document(scaling_template(plan), header))
    return [fragment, scaling]
