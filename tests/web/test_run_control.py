"""What `POST /swarm` from the web UI may do to a run."""

from __future__ import annotations

import pytest

from rightsizer.load.plan import MAX_SPAWN_RATE, MAX_USERS, MIN_SPAWN_RATE
from rightsizer.web.run_control import RunControl, UiLimits, requested_users, swarm_refusal

TARGET = "http://127.0.0.1:8080"


def _control(ui_driven: bool = True, over: bool = False) -> RunControl:
    limits = UiLimits(MAX_USERS, MIN_SPAWN_RATE, MAX_SPAWN_RATE)
    return RunControl(TARGET, ui_driven, lambda users: None, lambda: over, limits)


def test_a_ui_driven_run_accepts_a_user_count_for_its_own_target() -> None:
    form = {"user_count": "3", "spawn_rate": "1", "host": TARGET + "/"}
    assert swarm_refusal(form, _control()) is None
    assert swarm_refusal({"user_count": "3"}, _control()) is None
    assert requested_users(form) == 3


@pytest.mark.parametrize(
    ("form", "control", "words"),
    [
        ({"user_count": "3"}, _control(over=True), "this run has ended"),
        ({"user_count": "3"}, _control(ui_driven=False), "run by themselves"),
        ({"user_count": "3", "host": "http://10.0.0.9"}, _control(), "cannot be changed"),
        ({"user_count": "0"}, _control(), "from 1 to 1000000"),
        ({"user_count": "-2"}, _control(), "whole number"),
        ({"user_count": "many"}, _control(), "whole number"),
        ({}, _control(), "whole number"),
    ],
)
def test_refusals(form: dict[str, str], control: RunControl, words: str) -> None:
    reason = swarm_refusal(form, control)
    assert reason is not None and words in reason


def test_no_user_count_in_a_form() -> None:
    assert requested_users({"user_count": "x"}) is None


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"user_count": str(MAX_USERS + 1)}, f"from 1 to {MAX_USERS}"),
        ({"user_count": "99999999999999999999"}, f"from 1 to {MAX_USERS}"),
        ({"user_count": "3", "spawn_rate": str(MAX_SPAWN_RATE * 10)}, "spawn rate from"),
        ({"user_count": "3", "spawn_rate": "inf"}, "spawn rate from"),
        ({"user_count": "3", "spawn_rate": "nan"}, "spawn rate from"),
        ({"user_count": "3", "spawn_rate": "0"}, "spawn rate from"),
        ({"user_count": "3", "spawn_rate": "fast"}, "spawn rate from"),
    ],
)
def test_the_command_lines_limits_cap_the_ui(form: dict[str, str], words: str) -> None:
    reason = swarm_refusal(form, _control())
    assert reason is not None and words in reason


def test_the_limits_themselves_are_allowed() -> None:
    form = {"user_count": str(MAX_USERS), "spawn_rate": f"{MAX_SPAWN_RATE:g}"}
    assert swarm_refusal(form, _control()) is None
    assert swarm_refusal({"user_count": "1", "spawn_rate": "0.5"}, _control()) is None
