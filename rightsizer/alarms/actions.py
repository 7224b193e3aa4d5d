"""Alarm actions, run on transitions only (never on an evaluation that keeps the state).

An action string is one of
    log                      a line on the log sink (stderr by default)
    webhook:https://host/p   POST a JSON body shaped like CloudWatch's SNS alarm notification
    command:<shell command>  run by /bin/sh with RIGHTSIZER_ALARM_NAME, _STATE, _OLD_STATE and
                             _REASON in its environment
    stop-run                 set `stop_requested` (the load runner aborts the test)
    arn:aws:...              kept for export; AWS runs those, rightsizer does not (said once)

`log` and `stop-run` happen at once; webhooks and commands run in order on a worker thread so a
slow peer never delays the next evaluation. Failures are logged and recorded, never raised.

Bounds: a webhook waits `webhook_timeout` (5 s), a command runs at most `command_timeout`
(30 s). `close(timeout)` (10 s by default) lets queued actions finish for that long; then it
ends a command still running (its process group, by the PID it was started with: commands run
in a session of their own) and skips what has not begun, so no action outlives the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.reason import iso_millis
from rightsizer.alarms.timeline import Transition

_OUTPUT_LIMIT = 2000
CLOSE_TIMEOUT = 10.0
# After SIGTERM, how long an ended command's shell has before SIGKILL.
KILL_GRACE = 1.0


@dataclass(frozen=True)
class ActionResult:
    """What one action did: `ok` False with `detail` saying why when it failed."""

    alarm_name: str
    action: str
    new_state: str
    ok: bool
    detail: str = ""


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def notification(alarm: AlarmDefinition, transition: Transition) -> dict[str, Any]:
    """The Message of CloudWatch's SNS alarm notification, for this transition."""
    trigger: dict[str, Any] = {
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "StatisticType": "ExtendedStatistic" if alarm.statistic.is_extended else "Statistic",
    }
    if alarm.statistic.is_extended:
        trigger["ExtendedStatistic"] = alarm.statistic.name
    else:
        trigger["Statistic"] = alarm.statistic.name.upper()
    trigger |= {
        "Unit": alarm.unit,
        "Dimensions": [{"value": v, "name": k} for k, v in alarm.dimensions],
        "Period": alarm.period,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "ComparisonOperator": alarm.comparison.value,
        "Threshold": alarm.threshold,
        "TreatMissingData": alarm.treat_missing_data.value,
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
    }
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "NewStateValue": transition.new_state.value,
        "NewStateReason": transition.reason,
        "StateChangeTime": iso_millis(transition.time),
        "OldStateValue": transition.old_state.value,
        "AlarmActions": list(alarm.alarm_actions),
        "OKActions": list(alarm.ok_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": trigger,
    }


class ActionRunner:
    """Runs the actions of each transition; one runner per live evaluator."""

    def __init__(
        self,
        *,
        stop_requested: threading.Event | None = None,
        log: Callable[[str], None] = _stderr_line,
        webhook_timeout: float = 5.0,
        command_timeout: float = 30.0,
    ) -> None:
        self.stop_requested = stop_requested or threading.Event()
        self._log = log
        self._webhook_timeout = webhook_timeout
        self._command_timeout = command_timeout
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._running: subprocess.Popen[bytes] | None = None
        self._arn_noted = False
        self.results: list[ActionResult] = []

    def on_transition(self, alarm: AlarmDefinition, transition: Transition) -> None:
        """Run (or queue) every action of the state the alarm moved into."""
        for action in alarm.actions_for(transition.new_state.value):
            if action == "log":
                self._record(alarm, transition, action, True, self._log_line(transition))
            elif action == "stop-run":
                self.stop_requested.set()
                self._log(f"alarm {alarm.name} is {transition.new_state.value}: stopping the run")
                self._record(alarm, transition, action, True, "stop requested")
            elif action.startswith("arn:"):
                self._note_arn(action)
                self._record(alarm, transition, action, True, "kept for export, not run")
            else:
                self._submit(alarm, transition, action)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until queued actions are done; False if `timeout` passed first."""
        done = threading.Event()
        with self._lock:
            if self._worker is None:
                return True
        # A marker job: when the worker reaches it, everything queued before it has run.
        self._queue.put(done.set)
        return done.wait(timeout)

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Let queued actions finish for up to `timeout` seconds; then end the command still
        running (by its PID's process group) and skip the rest (recorded as not run)."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is None:
            return
        self._queue.put(None)
        worker.join(timeout)
        if not worker.is_alive():
            return
        self._closing.set()
        with self._lock:
            running = self._running
        if running is not None:
            _end_group(running, signal.SIGTERM)
        worker.join(KILL_GRACE)
        if running is not None and worker.is_alive():
            _end_group(running, signal.SIGKILL)
            worker.join(KILL_GRACE)

    def _log_line(self, transition: Transition) -> str:
        line = (
            f"alarm {transition.alarm_name}: {transition.old_state.value} -> "
            f"{transition.new_state.value}: {transition.reason}"
        )
        self._log(line)
        return line

    def _note_arn(self, action: str) -> None:
        if not self._arn_noted:
            self._arn_noted = True
            self._log(f"{action}: AWS actions are kept for export; rightsizer does not run them")

    def _record(
        self, alarm: AlarmDefinition, transition: Transition, action: str, ok: bool, detail: str
    ) -> None:
        result = ActionResult(alarm.name, action, transition.new_state.value, ok, detail)
        with self._lock:
            self.results.append(result)
        if not ok:
            self._log(f"alarm {alarm.name}: action {action} failed: {detail}")

    def _submit(self, alarm: AlarmDefinition, transition: Transition, action: str) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="rightsizer-alarm-actions", daemon=True
                )
                self._worker.start()
        self._queue.put(lambda: self._execute(alarm, transition, action))

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            job()

    def _execute(self, alarm: AlarmDefinition, transition: Transition, action: str) -> None:
        if self._closing.is_set():
            ok, detail = False, "not run: the run ended first"
        else:
            ok, detail = self._run(alarm, transition, action)
        self._record(alarm, transition, action, ok, detail)

    def _run(self, alarm: AlarmDefinition, transition: Transition, action: str) -> tuple[bool, str]:
        if action.startswith("webhook:"):
            return self._post(action.removeprefix("webhook:"), notification(alarm, transition))
        return self._command(action.removeprefix("command:"), transition)

    def _post(self, url: str, body: dict[str, Any]) -> tuple[bool, str]:
        try:
            response = httpx.post(
                url,
                content=json.dumps(body),
                headers={"Content-Type": "application/json"},
                timeout=self._webhook_timeout,
            )
        except httpx.HTTPError as exc:
            return False, f"POST {url}: {exc.__class__.__name__}: {exc}"
        if response.is_success:
            return True, f"POST {url}: {response.status_code}"
        return False, f"POST {url}: HTTP {response.status_code}"

    def _command(self, command: str, transition: Transition) -> tuple[bool, str]:
        env = dict(os.environ)
        env |= {
            "RIGHTSIZER_ALARM_NAME": transition.alarm_name,
            "RIGHTSIZER_ALARM_STATE": transition.new_state.value,
            "RIGHTSIZER_ALARM_OLD_STATE": transition.old_state.value,
            "RIGHTSIZER_ALARM_REASON": transition.reason,
        }
        # Its own session, so a timeout ends the shell and whatever it started, nothing else.
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", command],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            return False, f"cannot start the command ({exc.strerror}): {command}"
        with self._lock:
            self._running = proc
        try:
            output, _ = proc.communicate(timeout=self._command_timeout)
        except subprocess.TimeoutExpired:
            _end_group(proc, signal.SIGKILL)
            proc.communicate()
            return False, f"command timed out after {self._command_timeout:g} s: {command}"
        finally:
            with self._lock:
                self._running = None
        text = output.decode(errors="replace").strip()[-_OUTPUT_LIMIT:]
        if self._closing.is_set() and proc.returncode < 0:
            return False, f"command ended when the run ended: {command}"
        if proc.returncode != 0:
            return False, f"command exited {proc.returncode}: {command}: {text}"
        return True, text


def _end_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the process group of a command we started (its PID leads its own session)."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)
