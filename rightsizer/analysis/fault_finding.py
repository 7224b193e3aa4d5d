"""Whether the alarms caught each fault of a run (`run --fault`), and how fast.

    recommended = recommended_alarm(run, 45.0)      # the run's CPU alarm at the recommended 45%
    verdicts = fault_verdicts(document.faults, recommended=recommended)
    verdicts[0].sentence   # "kill-task@20s:1: the recommended alarm cpu-high at 45% caught it
                           #  after 61.0 s; the run's alarms: cpu-high after 61.0 s"

A fault is caught by an alarm that went into ALARM from the fault's start until it recovered
(or the load's end when it did not; never before the fault's end): the delay counts from its
start. An alarm already in ALARM when the fault started did not catch it: it says so. The run's
own alarms are read from the fault's record (faults.json); the recommended alarm is the run's
CPU alarm with the recommended threshold, evaluated by the engine over the run's own CPU series
(rightsizer.alarms.replay), as if it had watched the run.

The fault records come in as `FaultLike` (rightsizer.fault.record.FaultRecord has that shape:
this layer sits below the one that injects faults).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.replay import read_run, replay_facts
from rightsizer.alarms.state import AlarmState
from rightsizer.analysis.recorded_run import RecordedRun
from rightsizer.errors import RightsizerError
from rightsizer.metrics import names
from rightsizer.rundir import RunDir

IN_ALARM = AlarmState.ALARM.value


class NamedFault(Protocol):
    @property
    def text(self) -> str: ...


class AlarmChangeLike(Protocol):
    @property
    def alarm(self) -> str: ...

    @property
    def time(self) -> float: ...

    @property
    def to_state(self) -> str: ...


class FaultLike(Protocol):
    """What a verdict reads of one fault's record (rightsizer.fault.record.FaultRecord)."""

    @property
    def fault(self) -> NamedFault: ...

    @property
    def started(self) -> float | None: ...

    @property
    def ended(self) -> float | None: ...

    @property
    def recovered_at(self) -> float | None: ...

    @property
    def alarms(self) -> Sequence[AlarmChangeLike]: ...


@dataclass(frozen=True)
class RecommendedAlarm:
    """The recommended alarm as it would have gone over the run: its name and threshold, its
    transitions (epoch seconds, new state), and the run's end (the horizon of a fault that
    did not recover)."""

    name: str
    threshold: float
    transitions: tuple[tuple[float, str], ...]
    end: float

    def state_at(self, time: float) -> str | None:
        """Its state just before `time` (None: no transition yet)."""
        before = [state for t, state in self.transitions if t < time]
        return before[-1] if before else None


@dataclass(frozen=True)
class FaultCatch:
    """One alarm against one fault: `delay_s` from the fault's start to its ALARM (None: it
    did not go into ALARM in the fault's window); `already`: it was in ALARM when the fault
    started."""

    alarm: str
    delay_s: float | None
    already: bool = False

    @property
    def caught(self) -> bool:
        return self.delay_s is not None

    @property
    def text(self) -> str:
        if self.already:
            return f"{self.alarm} was already in ALARM"
        if self.delay_s is None:
            return f"{self.alarm} did not go into ALARM"
        return f"{self.alarm} after {self.delay_s:.1f} s"

    def to_json(self) -> dict[str, Any]:
        return {"alarm": self.alarm, "caught": self.caught, "delay_s": self.delay_s,
                "already": self.already}  # fmt: skip

    @classmethod
    def from_json(cls, raw: Any) -> FaultCatch:
        delay = raw.get("delay_s")
        return cls(str(raw["alarm"]), None if delay is None else float(delay),
                   bool(raw.get("already", False)))  # fmt: skip


@dataclass(frozen=True)
class FaultVerdict:
    """One fault: whether the recommended alarm caught it (None: no recommended threshold,
    or not done), and each of the run's alarms that went into ALARM in its window."""

    fault: str
    done: bool
    recommended: FaultCatch | None
    threshold: float | None
    alarms: tuple[FaultCatch, ...]

    @property
    def sentence(self) -> str:
        """One sentence: the recommended alarm first, then the run's own."""
        if not self.done:
            return f"{self.fault}: not done, so nothing to catch"
        if self.recommended is None:
            first = "no recommended threshold to judge"
        elif self.recommended.already:
            first = (
                f"the recommended alarm ({self.threshold:g}%) was already in ALARM when it began"
            )
        elif self.recommended.caught:
            first = (
                f"the recommended alarm ({self.threshold:g}%) caught it after "
                f"{self.recommended.delay_s:.1f} s"
            )
        else:
            first = f"the recommended alarm ({self.threshold:g}%) would not have caught it"
        own = "; ".join(c.text for c in self.alarms) or "none went into ALARM"
        return f"{self.fault}: {first}; the run's alarms: {own}"

    def to_json(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "done": self.done,
            "recommended": None if self.recommended is None else self.recommended.to_json(),
            "threshold": self.threshold,
            "alarms": [c.to_json() for c in self.alarms],
            "sentence": self.sentence,
        }

    @classmethod
    def from_json(cls, raw: Any) -> FaultVerdict:
        recommended, threshold = raw.get("recommended"), raw.get("threshold")
        return cls(
            fault=str(raw["fault"]),
            done=bool(raw["done"]),
            recommended=None if recommended is None else FaultCatch.from_json(recommended),
            threshold=None if threshold is None else float(threshold),
            alarms=tuple(FaultCatch.from_json(c) for c in raw.get("alarms") or ()),
        )


def fault_verdicts(
    faults: Sequence[FaultLike], *, recommended: RecommendedAlarm | None = None
) -> tuple[FaultVerdict, ...]:
    """A verdict per fault, in the records' order."""
    return tuple(_verdict(record, recommended) for record in faults)


def _verdict(record: FaultLike, recommended: RecommendedAlarm | None) -> FaultVerdict:
    text = record.fault.text
    if record.started is None:
        return FaultVerdict(text, False, None, None, ())
    started = record.started
    firsts: dict[str, float] = {}
    for change in sorted(record.alarms, key=lambda c: c.time):
        if change.to_state == IN_ALARM and change.time >= started:
            firsts.setdefault(change.alarm, change.time - started)
    own = tuple(FaultCatch(alarm, delay) for alarm, delay in firsts.items())
    if recommended is None:
        return FaultVerdict(text, True, None, None, own)
    ended = record.ended if record.ended is not None else started
    horizon = max(
        record.recovered_at if record.recovered_at is not None else recommended.end, ended
    )
    if recommended.state_at(started) == IN_ALARM:
        catch = FaultCatch(recommended.name, None, already=True)
    else:
        into = [t for t, state in recommended.transitions if state == IN_ALARM]
        delay = next((t - started for t in into if started <= t <= horizon), None)
        catch = FaultCatch(recommended.name, delay)
    return FaultVerdict(text, True, catch, recommended.threshold, own)


def recommended_alarm(run: RecordedRun, threshold: float) -> RecommendedAlarm | None:
    """The run's CPU alarm at `threshold`, evaluated over the run's own series; None when the
    run has no CPU alarm or its series cannot be read."""
    cpu = next((a for a in run.alarms if a.metric_name == names.CPU_UTILIZATION), None)
    if cpu is None or run.path is None:
        return None
    try:
        alarm = replace(AlarmDefinition.from_json(dict(cpu.definition)), threshold=threshold)
        facts = read_run(RunDir.open(run.path), alarm)
    except (RightsizerError, ValueError, OSError):
        return None
    (row,) = replay_facts(facts, [alarm])
    transitions = tuple((t.time, t.new_state.value) for t in row.transitions)
    return RecommendedAlarm(alarm.name, threshold, transitions, facts.load_end)
