"""Alarm actions an alarm file (or the peer it names) can abuse: URLs that pass a loose check
and then kill the action worker, webhooks that never finish or answer without end, commands
that print without end, and failures that leave no trace in the run directory."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest
from typer.testing import CliRunner

from rightsizer.alarms import history
from rightsizer.alarms.actions import ActionRunner
from rightsizer.alarms.command import CommandError, run_command
from rightsizer.alarms.state import AlarmState
from rightsizer.alarms.timeline import Transition
from rightsizer.cli import app
from rightsizer.errors import AlarmDefinitionError
from rightsizer.load.alarm_hook import AlarmWatch
from rightsizer.metrics.store import MetricKey, MetricStore, Sample
from tests.alarms.helpers import T0, alarm_document, definition
from tests.waiting import poll_until

# Generous: a loaded machine is slow, but before the fixes these never finished at all.
SETTLED = 60.0
HUGE = 32 * 1024 * 1024
BAD_URLS = [
    "http://h:notaport/x",
    "http://127.0.0.1:notaport/x",
    "http://127.0.0.1:0/x",
    "http://127.0.0.1:65536/x",
    "http://127.0.0.1:/x",
    "http:///x",
    "https://",
    "http://[zz]/x",
    "http://h:8080:9/x",
    "ftp://h/x",
]


def transition() -> Transition:
    return Transition("cpu-high", T0 + 60, AlarmState.OK, AlarmState.ALARM, "crossed", {})


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was ours a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


class Peer:
    """A real HTTP server on 127.0.0.1:0 answering every POST as `mode` says: `huge` (32 MiB
    of body), `trickle-headers` or `trickle-body` (a byte every 0.1 s until closed)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sent = 0
        self.finished = threading.Event()  # the handler is done (sent all, or was cut off)
        self.completed = False  # it sent its whole answer
        self.stop = threading.Event()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    peer.answer(self)
                    peer.completed = True
                except OSError:
                    pass  # the client hung up
                finally:
                    peer.finished.set()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        out = handler.wfile
        if self.mode == "huge":
            out.write(f"HTTP/1.1 200 OK\r\nContent-Length: {HUGE}\r\n\r\n".encode())
            chunk = b"x" * 65536
            while self.sent < HUGE:
                out.write(chunk)
                self.sent += len(chunk)
            return
        # Trickle: a byte every 0.1 s, within any per-read timeout, for ever (until closed).
        head = b"HTTP/1.1 200 OK\r\n"
        if self.mode == "trickle-body":
            out.write(head + b"Content-Length: 1000000\r\n\r\n")
        else:
            out.write(head + b"X-Slow: ")
        out.flush()
        while not self.stop.wait(0.1):
            out.write(b"a")
            out.flush()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_webhook_url_that_cannot_be_sent_to_is_refused_when_defined(url: str) -> None:
    with pytest.raises(AlarmDefinitionError) as caught:
        definition(OKActions=["log"], AlarmActions=["log", f"webhook:{url}"])
    assert caught.value.field == "AlarmActions[1]"
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("AlarmActions[1]: webhook URL ")


def test_alarm_evaluate_refuses_it_with_one_line_and_exit_2(tmp_path: Path) -> None:
    alarm, points = tmp_path / "alarm.json", tmp_path / "points.csv"
    alarm.write_text(json.dumps(alarm_document(AlarmActions=["webhook:http://h:notaport/x"])))
    points.write_text("timestamp,value\n2026-11-27T14:03:10Z,30.2\n")
    result = CliRunner().invoke(
        app, ["alarm", "evaluate", "--alarm", str(alarm), "--datapoints", str(points)]
    )
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "AlarmActions[0]" in result.stderr and "notaport" in result.stderr


def test_an_action_that_raises_is_its_failure_and_the_next_action_runs(
    lines: list[str], tmp_path: Path
) -> None:
    """The issue's case, with the URL check bypassed (a definition built in code): httpx's
    InvalidURL is not an HTTPError; it used to end the worker and drop the command."""
    touched = tmp_path / "touched"
    alarm = dataclasses.replace(
        definition(),
        alarm_actions=("webhook:http://127.0.0.1:notaport/x", f"command:touch {touched}"),
    )
    runner = ActionRunner(log=lines.append)
    try:
        runner.on_transition(alarm, transition())
        assert runner.drain(SETTLED), "the action worker stopped serving"
        runner.on_transition(alarm, transition())  # the worker still serves later transitions
        assert runner.drain(SETTLED)
    finally:
        runner.close()
    assert touched.exists()
    webhook, command, again, _ = runner.results
    assert not webhook.ok and "InvalidURL" in webhook.detail
    assert command.ok and not again.ok
    assert any("failed" in line and "InvalidURL" in line for line in lines)


def test_every_outcome_is_recorded_in_the_runs_metrics_db(lines: list[str], tmp_path: Path) -> None:
    """Through the run's own wiring (AlarmWatch): a webhook nobody answers and a command,
    both on record beside the transition, with alarm, state, action, time and why."""
    touched = tmp_path / "touched"
    dead = closed_port_url()
    alarm = definition(
        Period=10, AlarmActions=[f"webhook:{dead}", f"command:touch {touched}", "log"]
    )
    cpu = MetricKey.of("CPUUtilization", ServiceName="uploader")
    db = tmp_path / "metrics.db"
    watch = AlarmWatch([alarm], note=lines.append)
    with MetricStore(db) as store:
        watch.start(store, db)
        assert watch.live is not None
        # Two periods ahead: the watch's own thread cannot reach it during the test.
        before = time.time()
        boundary = (int(before // 10) + 2) * 10.0
        store.put_many(Sample(cpu, boundary - 10 + i + 0.5, 90.0) for i in range(10))
        (fired,) = watch.live.evaluate_due(boundary + 0.3)
        watch.stop()
    assert fired.new_state is AlarmState.ALARM
    recorded = {r.action: r for r in history.read_actions(db)}
    assert set(recorded) == set(alarm.alarm_actions)
    webhook = recorded[f"webhook:{dead}"]
    assert not webhook.ok and webhook.outcome == "failed" and "ConnectError" in webhook.detail
    assert recorded[f"command:touch {touched}"].ok and touched.exists()
    for result in recorded.values():
        assert (result.alarm_name, result.new_state) == ("cpu-high", "ALARM")
        assert result.transition_time == boundary and result.time >= before


@pytest.mark.parametrize("mode", ["trickle-headers", "trickle-body"])
def test_a_webhook_that_never_finishes_answering_is_cut_at_the_deadline(
    mode: str, lines: list[str], tmp_path: Path
) -> None:
    """A byte every 0.1 s never trips a per-read timeout; the overall deadline ends it, and
    the next action runs."""
    peer = Peer(mode)
    after = tmp_path / "after"
    runner = ActionRunner(log=lines.append, webhook_timeout=5.0, webhook_deadline=1.0)
    try:
        alarm = definition(AlarmActions=[f"webhook:{peer.url}", f"command:touch {after}"])
        runner.on_transition(alarm, transition())
        assert runner.drain(SETTLED), "the webhook was never given up"
    finally:
        peer.close()
        runner.close()
    webhook, command = runner.results
    assert not webhook.ok and "no complete answer within 1 s" in webhook.detail
    assert command.ok and after.exists()


def test_a_huge_webhook_answer_is_not_read(lines: list[str]) -> None:
    """32 MiB of answer: the runner reads a few KiB and hangs up, so the peer cannot finish."""
    peer = Peer("huge")
    runner = ActionRunner(log=lines.append)
    try:
        runner.on_transition(definition(AlarmActions=[f"webhook:{peer.url}"]), transition())
        assert runner.drain(SETTLED)
        assert peer.finished.wait(SETTLED)
    finally:
        peer.close()
        runner.close()
    (result,) = runner.results
    assert result.ok and "200" in result.detail
    assert not peer.completed and peer.sent < HUGE


def test_a_command_printing_without_end_keeps_a_bounded_tail(lines: list[str]) -> None:
    """32 MiB of output: before, all of it was held in memory until the command ended."""
    runner = ActionRunner(log=lines.append)
    command = f"command:head -c {HUGE} /dev/zero | tr '\\0' x; echo; echo last-line; exit 3"
    tracemalloc.start()
    try:
        runner.on_transition(definition(AlarmActions=[command]), transition())
        assert runner.drain(SETTLED)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        runner.close()
    assert peak < 4 * 1024 * 1024, f"{peak} bytes held"
    (result,) = runner.results
    assert not result.ok and "exited 3" in result.detail
    assert result.detail.endswith("last-line") and "not kept" in result.detail


def test_an_outcome_that_cannot_be_recorded_does_not_stop_the_actions(
    lines: list[str], tmp_path: Path
) -> None:
    """A record that cannot be written (its database is a directory) is logged, and the
    actions after it still run."""
    broken = tmp_path / "not-a-db"
    broken.mkdir()
    after = tmp_path / "after"

    def record(result: history.ActionResult) -> None:
        history.append_action(broken, result)

    runner = ActionRunner(log=lines.append, on_result=record)
    try:
        alarm = definition(AlarmActions=["command:true", f"command:touch {after}"])
        runner.on_transition(alarm, transition())
        assert runner.drain(SETTLED)
    finally:
        runner.close()
    assert [r.ok for r in runner.results] == [True, True] and after.exists()


def test_a_command_followed_no_further_leaves_no_process_behind() -> None:
    """Whatever goes wrong once the command runs (its output unreadable, an interrupt), its
    process group is killed and reaped before the error goes on."""
    started: list[subprocess.Popen[bytes]] = []

    def lose_the_output(proc: subprocess.Popen[bytes]) -> None:
        started.append(proc)
        assert proc.stdout is not None
        os.close(proc.stdout.fileno())  # reading it now fails with EBADF

    with pytest.raises(CommandError, match="reading the command's output failed"):
        run_command("sleep 30", {}, timeout=60.0, started=lose_the_output)
    assert started[-1].returncode == -signal.SIGKILL

    def interrupt(proc: subprocess.Popen[bytes]) -> None:
        started.append(proc)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_command("sleep 30 & sleep 30", {}, timeout=60.0, started=interrupt)
    assert started[-1].returncode == -signal.SIGKILL
    # the whole group is gone: at most zombies of it wait for init to reap them
    group = started[-1].pid
    assert poll_until(lambda: not _alive_in_group(group), timeout=30.0)


def _alive_in_group(group: int) -> list[int]:
    alive = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(proc.pid) == group and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
    return alive
