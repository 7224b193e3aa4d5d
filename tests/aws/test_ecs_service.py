"""The ECS service's task count against the emulator: UpdateService, then stable only when
running = desired and its target group holds that many healthy targets."""

from __future__ import annotations

import pytest

from rightsizer.aws.cloudwatch_metrics import EcsService
from rightsizer.aws.ecs_service import set_desired, task_counts, wait_stable
from rightsizer.errors import UnavailableError, UsageError
from tests.aws.conftest import Aws
from tests.aws.services import register, service_behind_a_target_group


def test_stable_waits_for_the_targets_to_be_healthy(aws: Aws) -> None:
    service, group = service_behind_a_target_group(aws, desired=1)
    assert task_counts(aws.connection, service).target_groups == (group,)
    set_desired(aws.connection, service, 2)
    notes: list[str] = []
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the tasks register while we wait
        sleeps.append(seconds)
        register(aws, group, 2)

    counts = wait_stable(aws.connection, service, poll=5, note=notes.append, sleep=sleep)
    assert counts.desired == counts.running == 2
    assert notes == ["waiting for uploader: 2 of 2 tasks running, 0 of 0 targets healthy"]
    assert sleeps == [5]


def test_a_service_that_never_settles_times_out(aws: Aws) -> None:
    service, _ = service_behind_a_target_group(aws, desired=1)
    set_desired(aws.connection, service, 3)  # no target ever registers
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(UnavailableError, match="was not stable after 30 s"):
        wait_stable(aws.connection, service, timeout=30, poll=10, clock=lambda: now[0], sleep=sleep)


def test_an_unknown_service_is_a_usage_error(aws: Aws) -> None:
    with pytest.raises(UsageError, match="--ecs: no service"):
        task_counts(aws.connection, EcsService(aws.name("none"), "uploader"))
