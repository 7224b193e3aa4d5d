"""RunPlan: parsing --users and the other step options, and the step schedule."""

from __future__ import annotations

from typing import Any

import pytest

from rightsizer.errors import UsageError
from rightsizer.load.plan import MAX_DEFAULT_SPAWN_RATE, RunPlan, given_steps, parse_users
from rightsizer.load.search import SearchLimits


def test_users_are_parsed_in_order() -> None:
    assert parse_users("1,3,20") == (1, 3, 20)
    assert parse_users(" 5 , 2 ") == (5, 2)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("3,x", "'x' in '3,x' is not a whole number"),
        ("0", "0 in '0' is out of range"),
        ("1,-2", "'-2' in '1,-2' is not a whole number"),
        ("1.5", "'1.5' in '1.5' is not a whole number"),
        ("", "empty step"),
        ("1,,3", "empty step"),
        ("²", "is not a whole number"),
        ("99999999", "out of range"),
    ],
)
def test_bad_users_name_the_flag_and_the_value(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_users(text)
    message = str(caught.value)
    assert message.startswith("--users: ")
    assert fragment in message
    assert "\n" not in message


def test_too_many_steps() -> None:
    with pytest.raises(UsageError, match="at most 1000"):
        parse_users(",".join(["1"] * 1001))


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"step_time": 0.5}, "--step-time"),
        ({"step_time": float("nan")}, "--step-time"),
        ({"warmup": 1.0}, "--warmup"),
        ({"warmup": -0.1}, "--warmup"),
        ({"spawn_rate": 0.0}, "--spawn-rate"),
        ({"cooldown": -1.0}, "--cooldown"),
    ],
)
def test_bad_options_name_their_flag(kwargs: dict[str, float], flag: str) -> None:
    args: dict[str, Any] = {"step_time": 10.0, **kwargs}
    with pytest.raises(UsageError, match=f"^{flag}: "):
        RunPlan.build("1,2", **args)


def test_step_schedule() -> None:
    plan = RunPlan.build("1,3,20", 60)
    assert plan.duration == 180
    assert [plan.step_at(t) for t in (0, 59.9, 60, 119.99, 120, 179.9)] == [0, 0, 1, 1, 2, 2]
    assert plan.step_at(180) is None
    assert plan.step_at(-1) == 0


def test_default_spawn_rate_starts_a_step_at_once_but_caps_it() -> None:
    assert RunPlan.build("1,3,20", 5).rate == 20
    assert RunPlan.build("500", 5).rate == MAX_DEFAULT_SPAWN_RATE
    assert RunPlan.build("500", 5, spawn_rate=7).rate == 7


def test_as_dict_is_json_ready() -> None:
    plan = RunPlan.build("1,3", 4, warmup=0.25, cooldown=2)
    assert plan.as_dict() == {
        "users": [1, 3],
        "search": None,
        "step_time": 4.0,
        "warmup": 0.25,
        "spawn_rate": None,
        "cooldown": 2.0,
    }


def test_auto_searches_with_a_step_budget() -> None:
    plan = RunPlan.build("auto", 20, search=SearchLimits(tasks=4, max_steps=7))
    assert plan.users == ()
    assert plan.search is not None and plan.search.tasks == 4
    assert plan.max_steps == 7
    assert plan.duration == 140
    assert plan.step_at(139) == 6
    assert plan.step_at(140) is None
    assert plan.as_dict()["users"] == "auto"


def test_a_search_spreads_each_step_change_over_a_few_seconds() -> None:
    plan = RunPlan.build("AUTO", 20)
    # 600 new users over min(3 s, 25% of 20 s) = 3 s
    assert plan.rate_between(40, 640) == 200
    assert plan.rate_between(640, 340) == 100  # stopping users is spread too
    assert plan.rate_between(10, 11) == 1.0
    # A short step spreads over a quarter of it: 300 users over 1.5 s.
    assert RunPlan.build("auto", 6).rate_between(0, 300) == 200
    assert RunPlan.build("1,3", 20).rate_between(1, 3) == 3  # a list keeps its own rate


def test_steps_come_from_users_with_step_time_or_from_the_web_ui() -> None:
    assert given_steps("1,3", 5.0, web=False) == ("1,3", 5.0)
    assert given_steps("1,3", 5.0, web=True) == ("1,3", 5.0)
    assert given_steps(None, None, web=True) is None  # the UI sets them


@pytest.mark.parametrize(
    ("users", "step_time", "web", "message"),
    [
        (None, None, False, "--users: required; e.g. --users 1,3,20 --step-time 60 (or --web)"),
        (None, 5.0, False, "--users: required; e.g. --users 1,3,20 --step-time 60 (or --web)"),
        ("1", None, False, "--step-time: required; e.g. --users 1,3,20 --step-time 60 (or --web)"),
        ("1", None, True, "--step-time: required; e.g. --users 1,3,20 --step-time 60 (or --web)"),
        (None, 5.0, True, "--step-time: without --users the web UI sets the steps; drop one"),
    ],
)
def test_steps_half_given_name_the_flag(
    users: str | None, step_time: float | None, web: bool, message: str
) -> None:
    with pytest.raises(UsageError) as info:
        given_steps(users, step_time, web=web)
    assert str(info.value) == message
