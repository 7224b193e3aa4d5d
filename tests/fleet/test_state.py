from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from rightsizer.errors import RefusedError
from rightsizer.fleet.state import (
    FleetLock,
    is_locked,
    read_state,
    supervisor_alive,
    supervisor_pid,
)
from rightsizer.process import start_time
from rightsizer.rundir import write_json


def test_a_second_supervisor_is_refused_with_the_first_ones_url(tmp_path: Path) -> None:
    write_json(tmp_path / "fleet.json", {"pid": 42, "url": "http://127.0.0.1:9"})
    with FleetLock(tmp_path):
        assert is_locked(tmp_path)
        with pytest.raises(RefusedError, match=r"already up .*pid 42, http://127.0.0.1:9"):
            FleetLock(tmp_path).acquire()
    assert not is_locked(tmp_path)


def test_supervisor_identity_needs_pid_and_start_time(tmp_path: Path) -> None:
    me = {"pid": os.getpid(), "pid_created": start_time(os.getpid())}
    assert supervisor_alive(me)
    assert not supervisor_alive({**me, "pid_created": 1.0})  # pid recycled
    assert not supervisor_alive({"pid": os.getpid()})  # no start time: cannot be sure
    assert read_state(tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert read_state(tmp_path / "bad.json") is None
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe")
    assert read_state(tmp_path / "binary.json") is None


@pytest.mark.parametrize(
    "document",
    [{}, {"pid": "x"}, {"pid": True}, {"pid": -1}, {"pid": None}, {"pid": 1.5}],
)
def test_a_document_without_a_usable_pid_names_no_supervisor(document: dict[str, Any]) -> None:
    assert supervisor_pid(document) is None
    assert not supervisor_alive(document)


def test_a_start_time_of_the_wrong_type_is_ignored() -> None:
    assert supervisor_pid({"pid": 5, "pid_created": "soon"}) == (5, None)
    assert supervisor_pid({"pid": 5, "pid_created": 12}) == (5, 12.0)
