"""`rightsizer run --arrival-rate`: an open-model load, end to end against a real HTTP server
whose latency the test sets (one worker that holds each request, so requests queue), and its
bad arguments (one line, exit 2).

The server logs when it finished each request by its own clock: the oracle for how late the
generator started work, computed here without rightsizer's figures.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.load.test_run_arguments import check_usage_error

pytestmark = [pytest.mark.slow, pytest.mark.locust]

LOCUSTFILE = """
from locust import HttpUser, constant, task


class Hold(HttpUser):
    wait_time = constant(0)  # replaced: the open model paces the iterations

    @task
    def hold(self):
        self.client.get("/hold", name="hold")
"""


@dataclass
class HoldServer:
    """One worker (HTTP/1.0, a connection per request): each GET /hold takes `hold` seconds,
    so requests beyond one at a time wait in the listen queue. `done` is when each ended."""

    hold: float
    done: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def hold_server() -> Iterator[tuple[HoldServer, Any]]:
    state = HoldServer(0.0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:
            return None

        def do_GET(self) -> None:
            if self.path == "/hold":
                time.sleep(state.hold)  # the server's own latency: the point of the test
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            if self.path == "/hold":
                with state.lock:
                    state.done.append(time.time())

    class Server(HTTPServer):
        request_queue_size = 512  # queued requests wait in the backlog, never refused

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _locustfile(tmp_path: Path) -> Path:
    path = tmp_path / "hold.py"
    path.write_text(LOCUSTFILE)
    return path


def _due(step: dict[str, Any], rate: float) -> int:
    """Slots in the step: one at its start, then one every 1/rate seconds until its end."""
    due: int = math.ceil(rate * (step["end"] - step["start"]) - 1e-9)
    return due


def test_a_rate_the_server_keeps_up_with_is_achieved(
    run_cli: Any, hold_server: tuple[HoldServer, str], tmp_path: Path
) -> None:
    server, url = hold_server
    server.hold = 0.002
    finished = run_cli(
        "-f", str(_locustfile(tmp_path)), "--host", url, "--arrival-rate", "10,25",
        "--step-time", "3", "--cooldown", "0", "--no-report",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    steps = finished.steps()
    assert [s["arrival"]["intended_rate"] for s in steps] == [10, 25]
    for step, rate in zip(steps, (10, 25), strict=True):
        arrival = step["arrival"]
        due = _due(step, rate)
        assert arrival["iterations_due"] == due
        # Every slot started (the last one may fall on the very tick that ends the step).
        assert due - 1 <= arrival["iterations_started"] <= due
        assert arrival["dropped_starts"] <= 1
        # One request an iteration, each answered: the counts agree with the server's.
        assert step["requests_total"] == arrival["iterations_started"]
        assert step["failures"] == 0
        assert arrival["corrected_p95_ms"] >= step["p95_ms"]
    assert len(server.done) == sum(s["requests_total"] for s in steps)
    assert "open model" in finished.stdout  # the table of intended against achieved


def test_a_slower_server_shows_the_latency_a_closed_loop_hides(
    run_cli: Any, hold_server: tuple[HoldServer, str], tmp_path: Path
) -> None:
    # 40 iterations a second for a server that answers 20 (50 ms each, one at a time), by a
    # pool of 4 users: the users wait for the server, their slots pass and starts run late.
    server, url = hold_server
    server.hold = 0.050
    rate = 40
    finished = run_cli(
        "-f", str(_locustfile(tmp_path)), "--host", url, "--arrival-rate", str(rate),
        "--arrival-users", "4", "--step-time", "3", "--cooldown", "0",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    (step,) = finished.steps()
    arrival = step["arrival"]
    assert step["users"] == 4
    done = sorted(server.done)
    assert step["requests_total"] == arrival["iterations_started"] == len(done)
    # The server does at most one request per 50 ms: far fewer than the slots due.
    assert arrival["iterations_due"] == _due(step, rate)
    assert arrival["dropped_starts"] == arrival["iterations_due"] - len(done) > 0
    assert arrival["late_starts"] > 0
    assert arrival["users_needed"] > 4  # the pool was too small for the rate
    # The oracle: iterations take their slots in order and the server answers them in order,
    # so the i-th answer belongs to the i-th slot, due at start + i/rate. Its latency from
    # the intended start, by the server's clock:
    oracle = [end - (step["start"] + i / rate) for i, end in enumerate(done)]
    worst = max(oracle) * 1000.0
    assert worst > 500.0  # queueing the server alone (4 users x 50 ms) cannot explain
    assert abs(arrival["corrected_max_ms"] - worst) < 0.2 * worst
    # The raw latency, measured from when each request was really sent, hides it.
    assert step["max_ms"] < 0.5 * worst
    assert arrival["corrected_p95_ms"] > 2 * step["p95_ms"]
    report = (finished.run_dir() / "report.html").read_text()
    assert "Open model" in report
    assert f"<td>{arrival['iterations_started']} of {arrival['iterations_due']}</td>" in report
    # The answer does not pass the pool of users off as the load.
    answer = json.loads((finished.run_dir() / "answer.json").read_text())
    assert any("open model (--arrival-rate)" in note for note in answer["notes"])


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--arrival-rate", "10", "--users", "2", "--step-time", "3"],
         ["--arrival-rate: not with --users"]),
        (["--arrival-rate", "auto", "--arrival-users", "0", "--step-time", "3"],
         ["--arrival-users: 0 is out of range"]),
        (["--arrival-rate", "10,0", "--step-time", "3"], ["--arrival-rate: 0 in '10,0'"]),
        (["--arrival-rate", "10"], ["--step-time: required"]),
        (["--arrival-users", "3", "--users", "2", "--step-time", "3"],
         ["--arrival-users: only with --arrival-rate"]),
        (["--arrival-rate", "10", "--step-time", "3", "--workers", "1"],
         ["--arrival-rate: the open-model load runs in this one process"]),
    ],
)  # fmt: skip
def test_bad_arrival_arguments(run_cli: Any, args: list[str], fragments: list[str]) -> None:
    check_usage_error(run_cli(*args), *fragments)
