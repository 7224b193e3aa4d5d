"""manifest.json: what a run was asked to do and how it went, as one frozen `Manifest`.

`rightsizer.load` writes it (`to_json`) when the run starts, once its target is up, and when it
ends; the analysis, the report and `alarm replay` read it back (`read_manifest`):

    manifest = read_manifest(RunDir.open(path))
    manifest.load_start, manifest.slo, manifest.stop, manifest.searched

`from_json` is tolerant, as `stepsfile.Step.from_dict` is: a run directory from an older
version, or one whose run stopped early, lacks keys; a key missing or of the wrong type
becomes its default (None, False, empty), never an error. Sub-documents that other parts own
and no reader takes apart here (settings, versions, the target's own description, the reset
report, the alarms' states) stay JSON objects. The on-disk keys are the contract:

    created, command, label, versions, settings, locustfile, bundled_scenario, scenario_env,
    users, search, slo, step_time, warmup, spawn_rate, cooldown_seconds, workers, host, web,
    status, interrupted, alarms, [ignored_shapes], [reset], [target], [alarm_states,
    alarm_transitions], [load_start, load_end, drain_end, drain_forced, drain_cut, cooldown],
    [stop_reason], [steps_started, requests_recorded, generator_bound_steps, worker_report,
    locust_errors_logged], [error]

A bracketed group is written only once the run knows it (the target once it is up, the load's
figures once the load ran, `error` when it failed). Times are epoch seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rightsizer.numbers import finite_number
from rightsizer.rundir import RunDir
from rightsizer.slo import Slo
from rightsizer.stop import Stop

JsonObject = Mapping[str, Any]

RUNNING = "running"
FINISHED = "finished"
FAILED = "failed"


@dataclass(frozen=True)
class Cooldown:
    """The time without load after the drain, while the fleet is still sampled."""

    start: float | None = None
    end: float | None = None
    cut_short: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "cut_short": self.cut_short}

    @classmethod
    def from_json(cls, raw: Any) -> Cooldown:
        if not isinstance(raw, Mapping):
            return cls()
        return cls(
            finite_number(raw.get("start")),
            finite_number(raw.get("end")),
            raw.get("cut_short") is True,
        )


@dataclass(frozen=True)
class LoadFigures:
    """What a load that ran adds to the manifest (rightsizer.load.run_facts.load_figures)."""

    load_start: float | None = None
    load_end: float | None = None
    drain_end: float | None = None
    drain_forced: bool = False
    drain_cut: int | None = None  # requests the drain's deadline cut; None: not counted
    cooldown: Cooldown = field(default_factory=Cooldown)
    steps_started: int = 0
    requests_recorded: int = 0
    generator_bound_steps: tuple[int, ...] = ()
    worker_report: JsonObject = field(default_factory=dict)
    locust_errors_logged: int = 0

    def window_json(self) -> dict[str, Any]:
        """The load window's keys, in the order manifest.json has them."""
        return {
            "load_start": self.load_start,
            "load_end": self.load_end,
            "drain_end": self.drain_end,
            "drain_forced": self.drain_forced,
            "drain_cut": self.drain_cut,
            "cooldown": self.cooldown.to_json(),
        }

    def counts_json(self) -> dict[str, Any]:
        """The counts' keys, in the order manifest.json has them (after "stop_reason")."""
        return {
            "steps_started": self.steps_started,
            "requests_recorded": self.requests_recorded,
            "generator_bound_steps": list(self.generator_bound_steps),
            "worker_report": dict(self.worker_report),
            "locust_errors_logged": self.locust_errors_logged,
        }

    @classmethod
    def from_json(cls, raw: JsonObject) -> LoadFigures | None:
        """The figures in a manifest document; None when its load never ran (no load_start,
        load_end or cooldown: a run stopped before its load, or still starting)."""
        if not any(key in raw for key in ("load_start", "load_end", "cooldown")):
            return None
        bound = raw.get("generator_bound_steps")
        return cls(
            load_start=finite_number(raw.get("load_start")),
            load_end=finite_number(raw.get("load_end")),
            drain_end=finite_number(raw.get("drain_end")),
            drain_forced=raw.get("drain_forced") is True,
            drain_cut=_whole(raw.get("drain_cut")),
            cooldown=Cooldown.from_json(raw.get("cooldown")),
            steps_started=_whole(raw.get("steps_started")) or 0,
            requests_recorded=_whole(raw.get("requests_recorded")) or 0,
            generator_bound_steps=_wholes(bound),
            worker_report=_object(raw.get("worker_report")) or {},
            locust_errors_logged=_whole(raw.get("locust_errors_logged")) or 0,
        )


@dataclass(frozen=True)
class Manifest:
    """One run's manifest.json. `load` is None until the load ran; `target` (the target's own
    description, rightsizer.load.target) None until it was up."""

    created: str | None = None
    command: tuple[str, ...] = ()
    label: str | None = None
    versions: JsonObject = field(default_factory=dict)
    settings: JsonObject = field(default_factory=dict)
    locustfile: str | None = None
    bundled_scenario: bool = False
    scenario_env: Mapping[str, str] = field(default_factory=dict)
    users: tuple[int, ...] = ()
    search: JsonObject | None = None  # the search's limits with `--users auto`
    slo: Slo = field(default_factory=Slo)
    step_time: float | None = None
    warmup: float | None = None
    spawn_rate: float | None = None
    cooldown_seconds: float | None = None
    workers: JsonObject = field(default_factory=dict)  # {"local": n, "remote": n}
    host: str | None = None
    web: JsonObject | None = None
    status: str = RUNNING
    interrupted: bool = False
    alarms: tuple[str, ...] = ()
    ignored_shapes: tuple[str, ...] = ()
    reset: JsonObject | None = None
    target: JsonObject | None = None
    alarm_states: tuple[JsonObject, ...] | None = None
    alarm_transitions: tuple[JsonObject, ...] | None = None
    load: LoadFigures | None = None
    stop_reason: str | None = None
    error: str | None = None
    # The document as read, for showing it as the file says (the report's "manifest.json"
    # section); empty for a manifest built in memory. Never read for a figure.
    document: JsonObject = field(default_factory=dict, compare=False, repr=False)

    @property
    def load_start(self) -> float | None:
        return None if self.load is None else self.load.load_start

    @property
    def load_end(self) -> float | None:
        return None if self.load is None else self.load.load_end

    @property
    def searched(self) -> bool:
        """The steps were chosen during the run (`--users auto`), not listed in advance."""
        return self.search is not None

    @property
    def stop(self) -> Stop | None:
        """How the run ended; None when the manifest names no end (still running)."""
        return Stop.from_manifest(self.stop_reason, self.interrupted)

    def to_json(self) -> dict[str, Any]:
        """The JSON document, keys in the order rightsizer has always written them."""
        document: dict[str, Any] = {
            "created": self.created,
            "command": list(self.command),
            "label": self.label,
            "versions": dict(self.versions),
            "settings": dict(self.settings),
            "locustfile": self.locustfile,
            "bundled_scenario": self.bundled_scenario,
            "scenario_env": dict(self.scenario_env),
            "users": list(self.users),
            "search": None if self.search is None else dict(self.search),
            "slo": self.slo.as_dict(),
            "step_time": self.step_time,
            "warmup": self.warmup,
            "spawn_rate": self.spawn_rate,
            "cooldown_seconds": self.cooldown_seconds,
            "workers": dict(self.workers),
            "host": self.host,
            "web": None if self.web is None else dict(self.web),
            "status": self.status,
            "interrupted": self.interrupted,
            "alarms": list(self.alarms),
        }
        if self.ignored_shapes:
            document["ignored_shapes"] = list(self.ignored_shapes)
        if self.reset is not None:
            document["reset"] = dict(self.reset)
        if self.target is not None:
            document["target"] = dict(self.target)
        if self.alarm_states is not None:
            document["alarm_states"] = [dict(state) for state in self.alarm_states]
        if self.alarm_transitions is not None:
            document["alarm_transitions"] = [dict(t) for t in self.alarm_transitions]
        if self.load is not None:
            document.update(self.load.window_json())
        if self.stop_reason is not None:
            document["stop_reason"] = self.stop_reason
        if self.load is not None:
            document.update(self.load.counts_json())
        if self.error is not None:
            document["error"] = self.error
        return document

    @classmethod
    def from_json(cls, raw: JsonObject) -> Manifest:
        """Parse a manifest.json object, as any version wrote it (see the module docstring)."""
        return cls(
            created=_text(raw.get("created")),
            command=_texts(raw.get("command")),
            label=_text(raw.get("label")) or None,
            versions=_object(raw.get("versions")) or {},
            settings=_object(raw.get("settings")) or {},
            locustfile=_text(raw.get("locustfile")),
            bundled_scenario=raw.get("bundled_scenario") is True,
            scenario_env={
                str(k): v
                for k, v in (_object(raw.get("scenario_env")) or {}).items()
                if isinstance(v, str)
            },
            users=_wholes(raw.get("users")),
            search=_object(raw.get("search")),
            slo=Slo.from_json(raw.get("slo")),
            step_time=finite_number(raw.get("step_time")),
            warmup=finite_number(raw.get("warmup")),
            spawn_rate=finite_number(raw.get("spawn_rate")),
            cooldown_seconds=finite_number(raw.get("cooldown_seconds")),
            workers=_object(raw.get("workers")) or {},
            host=_text(raw.get("host")),
            web=_object(raw.get("web")),
            status=_text(raw.get("status")) or RUNNING,
            interrupted=raw.get("interrupted") is True,
            alarms=_texts(raw.get("alarms")),
            ignored_shapes=_texts(raw.get("ignored_shapes")),
            reset=_object(raw.get("reset")),
            target=_object(raw.get("target")),
            alarm_states=_objects(raw.get("alarm_states")),
            alarm_transitions=_objects(raw.get("alarm_transitions")),
            load=LoadFigures.from_json(raw),
            stop_reason=_text(raw.get("stop_reason")),
            error=_text(raw.get("error")),
            document=raw,
        )


def read_manifest(run_dir: RunDir) -> Manifest:
    """The manifest of a run directory (UsageError when it is missing, not JSON or not an
    object)."""
    return Manifest.from_json(run_dir.manifest())


def _text(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


def _texts(raw: Any) -> tuple[str, ...]:
    return tuple(item for item in raw if isinstance(item, str)) if isinstance(raw, list) else ()


def _whole(raw: Any) -> int | None:
    value = finite_number(raw)
    return int(value) if value is not None and value.is_integer() else None


def _wholes(raw: Any) -> tuple[int, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(value for value in (_whole(item) for item in raw) if value is not None)


def _object(raw: Any) -> JsonObject | None:
    return raw if isinstance(raw, Mapping) else None


def _objects(raw: Any) -> tuple[JsonObject, ...] | None:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return None
    return tuple(item for item in raw if isinstance(item, Mapping))
