"""The ECS service a run measures: its task counts (DescribeServices), and setting the desired
count (UpdateService) until the service is stable: running = desired, none pending, and in each
of its target groups exactly that many targets, all healthy (DescribeTargetHealth).

    service = EcsService.parse("seed/uploader")
    counts = task_counts(connection, service)        # TaskCounts(desired=1, running=1, ...)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rightsizer.aws.cloudwatch_metrics import EcsService
from rightsizer.aws.connection import AwsConnection, AwsError, aws_errors
from rightsizer.errors import UnavailableError, UsageError

STABLE_TIMEOUT = 600.0
STABLE_POLL = 5.0


@dataclass(frozen=True)
class TaskCounts:
    """DescribeServices' counts of one service."""

    desired: int
    running: int
    pending: int
    target_groups: tuple[str, ...] = ()  # the ARNs of the service's load balancer targets

    @property
    def stable(self) -> bool:
        return self.running == self.desired and self.pending == 0


def task_counts(connection: AwsConnection, service: EcsService) -> TaskCounts:
    """The service's counts now; UsageError when the cluster or service does not exist."""
    missing = UsageError(
        f"--ecs: no service {service.service!r} in cluster {service.cluster!r}; "
        "check the names and --region"
    )
    try:
        with aws_errors("DescribeServices"):
            reply = connection.client("ecs").describe_services(
                cluster=service.cluster, services=[service.service]
            )
    except AwsError as exc:
        if exc.code == "ClusterNotFoundException":
            raise missing from None
        raise
    found = [s for s in reply.get("services", []) if s.get("status") != "INACTIVE"]
    if not found:
        raise missing
    s = found[0]
    groups = tuple(
        str(lb["targetGroupArn"]) for lb in s.get("loadBalancers", []) if lb.get("targetGroupArn")
    )
    return TaskCounts(
        int(s.get("desiredCount", 0)),
        int(s.get("runningCount", 0)),
        int(s.get("pendingCount", 0)),
        groups,
    )


def target_health(connection: AwsConnection, target_group_arn: str) -> tuple[int, int]:
    """(healthy, all) targets of one target group (DescribeTargetHealth); draining and
    initial targets count in `all` only."""
    with aws_errors("DescribeTargetHealth"):
        reply = connection.client("elbv2").describe_target_health(TargetGroupArn=target_group_arn)
    descriptions = reply.get("TargetHealthDescriptions", [])
    states = [d.get("TargetHealth", {}).get("State") for d in descriptions]
    return sum(state == "healthy" for state in states), len(states)


def set_desired(connection: AwsConnection, service: EcsService, count: int) -> None:
    """UpdateService's desiredCount."""
    with aws_errors("UpdateService"):
        connection.client("ecs").update_service(
            cluster=service.cluster, service=service.service, desiredCount=count
        )


def wait_stable(
    connection: AwsConnection,
    service: EcsService,
    *,
    timeout: float = STABLE_TIMEOUT,
    poll: float = STABLE_POLL,
    note: Callable[[str], None] = lambda _: None,
    cancelled: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> TaskCounts:
    """Poll DescribeServices (and DescribeTargetHealth for each of the service's target groups)
    until running = desired with none pending and every target group holds exactly `desired`
    targets, all healthy; UnavailableError after `timeout` s, KeyboardInterrupt as soon as
    `cancelled()` says so."""
    deadline = clock() + timeout
    while True:
        counts = task_counts(connection, service)
        health = [target_health(connection, arn) for arn in counts.target_groups]
        healthy = all(h == n == counts.desired for h, n in health)
        if counts.stable and healthy:
            return counts
        if cancelled():
            raise KeyboardInterrupt
        if clock() > deadline:
            raise UnavailableError(
                f"{service.cluster}/{service.service} was not stable after {timeout:g} s "
                f"(desired {counts.desired}, running {counts.running}, "
                f"pending {counts.pending})"
            )
        targets = "".join(f", {h} of {n} targets healthy" for h, n in health)
        note(
            f"waiting for {service.service}: {counts.running} of {counts.desired} tasks "
            f"running{targets}"
        )
        sleep(poll)
