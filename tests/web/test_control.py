"""What `POST /swarm` from the web UI may do to a run."""

from __future__ import annotations

import pytest

from rightsizer.web.control import RunControl, requested_users, swarm_refusal

TARGET = "http://127.0.0.1:8080"


def _control(ui_driven: bool = True, over: bool = False) -> RunControl:
    return RunControl(TARGET, ui_driven, lambda users: None, lambda: over)


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
        ({"user_count": "0"}, _control(), "at least 1"),
        ({"user_count": "-2"}, _control(), "at least 1"),
        ({"user_count": "many"}, _control(), "whole number"),
        ({}, _control(), "whole number"),
    ],
)
def test_refusals(form: dict[str, str], control: RunControl, words: str) -> None:
    reason = swarm_refusal(form, control)
    assert reason is not None and words in reason


def test_no_user_count_in_a_form() -> None:
    assert requested_users({"user_count": "x"}) is None
