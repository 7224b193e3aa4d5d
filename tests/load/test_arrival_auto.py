"""`rightsizer run --arrival-rate auto`: the search over rates, end to end against a real HTTP
server that answers one request at a time and holds each for a set time, so its capacity is
known without rightsizer: at most 1 / hold requests a second."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.load import test_arrival_rate as held
from tests.load.test_run_arguments import check_usage_error

pytestmark = [pytest.mark.slow, pytest.mark.locust]

hold_server = held.hold_server  # the fixture: one worker, `hold` seconds a request

HOLD = 0.025  # the server answers at most 40 requests a second
SLO_MS = 200.0


def test_auto_raises_the_rate_until_the_corrected_p95_breaks_and_answers_on_rates(
    run_cli: Any, hold_server: tuple[held.HoldServer, str], tmp_path: Path
) -> None:
    server, url = hold_server
    server.hold = HOLD
    capacity = 1 / HOLD
    locustfile = tmp_path / "hold.py"
    locustfile.write_text(held.LOCUSTFILE)
    finished = run_cli(
        "-f", str(locustfile), "--host", url, "--arrival-rate", "auto", "--search-from", "20",
        "--max-steps", "5", "--step-time", "3", "--cooldown", "0", "--slo-p95-ms", str(SLO_MS),
        "--no-report",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    steps = finished.steps()
    rates = [s["arrival"]["intended_rate"] for s in steps]
    assert rates[0] == 20  # --search-from is the first rate
    # It climbs (never back down: a queue left by a rate past the limit would spoil a lower
    # one) and ends at the first rate past what the server can answer, before its budget.
    assert rates == sorted(set(rates))
    assert rates[-1] > capacity >= rates[-2]
    assert len(rates) < 5
    # Each step's pool carries its rate (the users are not the load).
    assert all(s["users"] >= s["arrival"]["intended_rate"] for s in steps)
    # Judged by the p95 from the intended start: below capacity it meets the SLO, above it
    # the queue the server builds breaks it (the oracle is the server's capacity).
    for s in steps:
        corrected = s["arrival"]["corrected_p95_ms"]
        over = s["arrival"]["intended_rate"] > capacity
        assert (corrected >= SLO_MS) is over, (s["arrival"], capacity)
    good, bad = rates[-2], rates[-1]
    progress = finished.stderr + finished.stdout
    assert f"the limit lies between {good:g} and {bad:g} iterations/s" in progress
    answer = json.loads((finished.run_dir() / "answer.json").read_text())
    (note,) = [n for n in answer["notes"] if "open model (--arrival-rate)" in n]
    match = re.search(r"the target holds (\d+) iterations/s at p95 < 200 ms \(corrected", note)
    assert match, note
    assert good <= int(match.group(1)) < min(bad, capacity)
    assert f"{good:g}-{bad:g} iterations/s" in note


def test_auto_rates_with_workers_are_refused(run_cli: Any) -> None:
    check_usage_error(
        run_cli("--arrival-rate", "auto", "--step-time", "3", "--workers", "1"),
        "--arrival-rate: the open-model load runs in this one process",
    )
