"""Alarm actions, run on transitions only (never on an evaluation that keeps the state).

An action string is one of
    log                      a line on the log sink (stderr by default)
    webhook:https://host/p   POST a JSON body shaped like CloudWatch's SNS alarm notification
    command:<shell command>  run by /bin/sh with RIGHTSIZER_ALARM_NAME, _STATE, _OLD_STATE and
                             _REASON in its environment
    stop-run                 set `stop_requested` (the load runner aborts the test)
    arn:aws:...              kept for export; AWS runs those, rightsizer does not (said once)

`log` and `stop-run` happen at once; webhooks and commands run in order on a worker thread so a
slow peer never delays the next evaluation. Every action's outcome (ran, or failed and why) is
kept in `results` and given to `on_result` (the live evaluator records it in the run's
metrics.db); a failure is also logged. Nothing an action raises reaches the caller or ends the
worker: it is that action's failure, and the next action runs.

Bounds: a webhook waits `webhook_timeout` (5 s) per network step and `webhook_deadline` (15 s)
in all, and reads at most a few KiB of the answer (rightsizer.alarms.webhook); a command runs
at most `command_timeout` (30 s) and keeps the last 64 KiB of its output
(rightsizer.alarms.command). `close(timeout)` (10 s by default) lets queued actions finish for
that long; then it ends a command still running (its process group, by the PID it was started
with: commands run in a session of their own) and skips what has not begun, so no action
outlives the run.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from rightsizer.alarms.command import CommandError, end_group, run_command
from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.history import ActionResult
from rightsizer.alarms.reason import iso_millis
from rightsizer.alarms.timeline import Transition
from rightsizer.alarms.webhook import post_json

logger = logging.getLogger(__name__)
_OUTPUT_LIMIT = 2000  # characters of a command's output quoted in its outcome
CLOSE_TIMEOUT = 10.0
# After SIGTERM, how long an ended command's shell has before SIGKILL.
KILL_GRACE = 1.0


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
        on_result: Callable[[ActionResult], None] | None = None,
        webhook_timeout: float = 5.0,
        webhook_deadline: float = 15.0,
        command_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stop_requested = stop_requested or threading.Event()
        self._log = log
        self._on_result = on_result
        self._webhook_timeout = webhook_timeout
        self._webhook_deadline = webhook_deadline
        self._command_timeout = command_timeout
        self._clock = clock
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
            end_group(running, signal.SIGTERM)
        worker.join(KILL_GRACE)
        if running is not None and worker.is_alive():
            end_group(running, signal.SIGKILL)
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
        result = ActionResult(
            alarm.name,
            action,
            transition.new_state.value,
            ok,
            detail,
            transition.time,
            self._clock(),
        )
        with self._lock:
            self.results.append(result)
        if not ok:
            self._log(f"alarm {alarm.name}: action {action} failed: {detail}")
        if self._on_result is not None:
            try:
                self._on_result(result)
            # A record that cannot be written (a full disk) must not stop the actions.
            except Exception:
                logger.exception("cannot record the outcome of %s of alarm %s", action, alarm.name)

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
            # The worker serves every later action: nothing one job raises may end it.
            try:
                job()
            except Exception:
                logger.exception("an alarm action job failed")

    def _execute(self, alarm: AlarmDefinition, transition: Transition, action: str) -> None:
        if self._closing.is_set():
            ok, detail = False, "not run: the run ended first"
        else:
            try:
                ok, detail = self._run(alarm, transition, action)
            except Exception as exc:  # noqa: BLE001 (any error is this action's failure)
                ok, detail = False, f"{exc.__class__.__name__}: {exc}"
        self._record(alarm, transition, action, ok, detail)

    def _run(self, alarm: AlarmDefinition, transition: Transition, action: str) -> tuple[bool, str]:
        if action.startswith("webhook:"):
            return self._post(action.removeprefix("webhook:"), notification(alarm, transition))
        return self._command(action.removeprefix("command:"), transition)

    def _post(self, url: str, body: dict[str, Any]) -> tuple[bool, str]:
        return post_json(
            url,
            json.dumps(body).encode(),
            timeout=self._webhook_timeout,
            deadline=self._webhook_deadline,
        )

    def _command(self, command: str, transition: Transition) -> tuple[bool, str]:
        env = dict(os.environ)
        env |= {
            "RIGHTSIZER_ALARM_NAME": transition.alarm_name,
            "RIGHTSIZER_ALARM_STATE": transition.new_state.value,
            "RIGHTSIZER_ALARM_OLD_STATE": transition.old_state.value,
            "RIGHTSIZER_ALARM_REASON": transition.reason,
        }
        try:
            done = run_command(command, env, timeout=self._command_timeout, started=self._started)
        except OSError as exc:
            return False, f"cannot start the command ({exc.strerror}): {command}"
        except CommandError as exc:
            return False, f"{exc}: {command}"
        finally:
            with self._lock:
                self._running = None
        if done.timed_out:
            return False, f"command timed out after {self._command_timeout:g} s: {command}"
        text = done.output.strip()[-_OUTPUT_LIMIT:]
        if done.discarded:
            text = f"(first {done.discarded} bytes of output not kept) {text}"
        if self._closing.is_set() and done.returncode < 0:
            return False, f"command ended when the run ended: {command}"
        if done.returncode != 0:
            return False, f"command exited {done.returncode}: {command}: {text}"
        return True, text

    def _started(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running = proc
