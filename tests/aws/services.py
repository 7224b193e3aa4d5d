"""ECS services in the emulator, as a test needs them: plain, or behind a target group."""

from __future__ import annotations

from typing import Any

from rightsizer.aws.cloudwatch_metrics import EcsService
from tests.aws.conftest import Aws


def create_service(aws: Aws, cluster: str, service: str, desired: int = 1) -> None:
    """A cluster with one service of `desired` tasks, no load balancer."""
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=service, containerDefinitions=[{"name": "app", "image": "uploader", "memory": 512}]
    )
    ecs.create_service(
        cluster=cluster, serviceName=service, taskDefinition=service, desiredCount=desired
    )


def service_behind_a_target_group(aws: Aws, desired: int) -> tuple[EcsService, str]:
    """A cluster, a service of `desired` tasks and an IP target group it registers into."""
    vpc = aws.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = aws.client("elbv2").create_target_group(
        Name=aws.name("tg"), Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    ecs = aws.client("ecs")
    cluster = aws.name("seed")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family="uploader", containerDefinitions=[{"name": "app", "image": "x", "memory": 512}]
    )
    ecs.create_service(
        cluster=cluster, serviceName="uploader", taskDefinition="uploader", desiredCount=desired,
        loadBalancers=[{"targetGroupArn": group, "containerName": "app", "containerPort": 80}],
    )  # fmt: skip
    return EcsService(cluster, "uploader"), group


def register(aws: Aws, group: str, count: int) -> None:
    """What ECS does as tasks start: their IPs into the target group."""
    targets: list[dict[str, Any]] = [{"Id": f"10.0.1.{i + 10}", "Port": 80} for i in range(count)]
    aws.client("elbv2").register_targets(TargetGroupArn=group, Targets=targets)
