"""The answer to the seed's questions, as the demo prints it and the report shows it.

`build_answer` computes it from a 1-task run and (optionally) a run with more tasks, as three
findings it assembles: `users_finding` (users per task, the knee), `scaling_finding` (tasks
needed, 1 -> N tasks, what limits) and `alarm_finding` (back to OK after the load). The alarm
threshold comes from `rightsizer alarm replay`, which the caller runs and passes in. The report
renders an `Answer` in its section "The answer"; `to_json`/`from_json` keep it as answer.json
in the run directory so `rightsizer report` can rebuild the same page.

    answer = build_answer(one, four, target_users=2000, recommended_threshold=45.0)
    print("\\n".join(answer.lines()))
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from rightsizer.alarms.sources import SEED_THRESHOLD
from rightsizer.analysis.alarm_episodes import alarm_outcome, returned_to_ok
from rightsizer.analysis.bottleneck import name_bottleneck
from rightsizer.analysis.capacity import DEFAULT_HEADROOM, DEFAULT_TARGET_USERS, plan_capacity
from rightsizer.analysis.fault_finding import (
    FaultLike,
    FaultVerdict,
    fault_verdicts,
    recommended_alarm,
)
from rightsizer.analysis.generator_limit import generator_limit
from rightsizer.analysis.limit import Limit, estimate_users, interval_text, limit_of_steps
from rightsizer.analysis.rate_limit import rate_limit
from rightsizer.analysis.recorded_run import Alarm, RecordedRun
from rightsizer.analysis.rig import rig_notes
from rightsizer.analysis.slo_limit import MEASURED, value_at_users
from rightsizer.analysis.target import HOST_SUMMARY, UNCAPPED, TargetKind, plural
from rightsizer.analysis.threshold import CurvePoint, ThresholdRow
from rightsizer.analysis.usl import fit_usl
from rightsizer.metrics import names
from rightsizer.slo import Slo

# How the threshold was found (Answer.threshold_basis): on the measured CPU-users curve, or by
# the replay at the demo's period (when no curve or limit was measured).
CURVE = "curve"
REPLAY = "replay"


@dataclass(frozen=True)
class Answer:
    """Measured answers; None where the runs could not tell (the report says "not measured").

    Users are whole numbers: every users figure per task (`users_low`, `users_high`,
    `users_per_task`, `knee_users`, `usl_max_users`) is the fleet's users divided by its
    tasks, rounded down; percentages carry one decimal. The limit is the one rule's
    (rightsizer.analysis.limit): `users_low` the last good step, `users_high` the first bad
    step (None: no step was past the limit, `users_low` is a lower bound, `bound_reason` says
    why); `users_per_task`: the estimate within that interval, interpolated where the SLO broke
    (`users_interpolated`; False: the last good step's users, measured, when the figures do not
    bracket the SLO; `users_at_knee`: the knee's, when the first bad step was past the knee
    with the SLO held); `knee_users`: where throughput
    stops growing (`knee_reached` False: a lower bound); `cpu_at_slo`: service CPU % at
    `users_per_task`; `recommended_threshold`: the CPU alarm threshold, versus `seed_threshold`;
    `threshold_basis` CURVE: the CPU at `alarm_users` = U* - g x T on `cpu_curve` (users per
    task; T `reaction_time_s`, g `growth_pct` % of U* a minute; `threshold_table`: other g),
    REPLAY: the highest that fired a period before the SLO broke in the demo's replay;
    `threshold_lead_s`: how early it fired before `threshold_event` in the replay (CURVE: at
    the production period, `threshold_period_s`; None: it did not fire before);
    `tasks_needed`: for `target_users` with `headroom` (linear), `tasks_needed_usl` following
    the USL (None: not reachable or not fitted), `usl_max_users` the most users any task count
    serves by the USL, with headroom; `throughput_ratio`: peak RPS of
    `scaling_tasks[1]` over `scaling_tasks[0]` tasks (None: a run's task count is unknown,
    an external target); `usl_sigma`, `usl_kappa`: the fit;
    `limiting_part` and `limiting_evidence`: what limits the larger fleet;
    `alarm_returned_to_ok`: the alarm `alarm_name` (the CPU alarm when there is one) went back
    to OK after the load stopped."""

    slo_p95_ms: float = Slo.p95_ms
    slo_failure_pct: float = Slo.failure_pct
    users_per_task: int | None = None
    users_low: int | None = None
    users_high: int | None = None
    bound_reason: str | None = None
    users_interpolated: bool = False
    users_at_knee: bool = False
    knee_users: int | None = None
    knee_reached: bool = False
    cpu_at_slo: float | None = None
    recommended_threshold: float | None = None
    threshold_lead_s: float | None = None
    threshold_event: str = "the SLO broke"
    seed_threshold: float = SEED_THRESHOLD
    threshold_basis: str | None = None
    reaction_time_s: float | None = None
    growth_pct: float | None = None
    alarm_users: int | None = None
    threshold_period_s: int | None = None
    threshold_table: tuple[ThresholdRow, ...] = ()
    cpu_curve: tuple[CurvePoint, ...] = ()
    target_users: int = DEFAULT_TARGET_USERS
    headroom: float = DEFAULT_HEADROOM
    tasks_needed: int | None = None
    tasks_needed_usl: int | None = None
    usl_max_users: int | None = None
    scaling_tasks: tuple[int, int] | None = (1, 4)
    throughput_ratio: float | None = None
    usl_sigma: float | None = None
    usl_kappa: float | None = None
    limiting_part: str | None = None
    limiting_evidence: tuple[str, ...] = ()
    alarm_returned_to_ok: bool | None = None
    alarm_name: str | None = None
    notes: tuple[str, ...] = ()
    # `run --fault`: whether the recommended alarm and the run's caught each fault
    # (rightsizer.analysis.fault_finding)
    faults: tuple[FaultVerdict, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"faults": [verdict.to_json() for verdict in self.faults]}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Answer:
        """Inverse of `to_json`; unknown keys are ignored (older or newer answer.json)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        for key in ("scaling_tasks", "limiting_evidence", "notes"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        values["threshold_table"] = tuple(
            ThresholdRow.from_json(r) for r in values.get("threshold_table") or ()
        )
        values["cpu_curve"] = tuple(CurvePoint.from_json(p) for p in values.get("cpu_curve") or ())
        values["faults"] = tuple(FaultVerdict.from_json(f) for f in values.get("faults") or ())
        for key in _WHOLE_USERS:  # an answer.json written when users had decimals
            if isinstance(values.get(key), float):
                values[key] = math.floor(values[key])
        return cls(**values)

    def lines(self) -> list[str]:
        """The answer as the terminal prints it, one finding a line."""
        threshold = (
            f"{self.recommended_threshold:.0f}% (seed: {self.seed_threshold:.0f}%)"
            if self.recommended_threshold is not None
            else "not measured"
        )
        return [
            f"Users per task (SLO p95 < {self.slo_p95_ms / 1000:g} s, failures < "
            f"{self.slo_failure_pct:g}%; and the knee): {self.users_text()}"
            + (f" ({self.users_detail()})" if self.users_low is not None else ""),
            f"Knee (throughput stops growing): {self.knee_text()} users",
            f"CPU at that point: {_num(self.cpu_at_slo, '%')}",
            f"CPU alarm threshold ({self.threshold_basis_text()}): {threshold}",
            f"Tasks for {self.target_users} users with {self.headroom:.0%} headroom: "
            f"{_num(self.tasks_needed, digits=0)} if tasks scaled linearly{self._usl_tasks()}",
            f"{self.scaling_label('->')}: throughput x{_num(self.throughput_ratio, digits=2)}, "
            f"USL sigma "
            f"{_num(self.usl_sigma, digits=3)}, kappa {_num(self.usl_kappa, digits=4)}",
            f"What limits: {self.limiting_part or 'not measured'}"
            + (f" ({'; '.join(self.limiting_evidence)})" if self.limiting_evidence else ""),
            f"Alarm{f' {self.alarm_name}' if self.alarm_name else ''} back to OK after the "
            f"load: {_yes_no(self.alarm_returned_to_ok)}",
            *(f"Fault {verdict.sentence}" for verdict in self.faults),
        ]

    def threshold_basis_text(self) -> str:
        """How `recommended_threshold` was found, in a few words."""
        if self.threshold_basis == CURVE and self.alarm_users is not None:
            return (
                f"CPU at {self.alarm_users} users = U* - g x T, T {self.reaction_time_s:.0f} s, "
                f"g {self.growth_pct:g}% of U* a minute"
            )
        return "fires before the SLO breaks"

    def scaling_label(self, arrow: str) -> str:
        """ "1 -> 4 tasks", or what is unknown."""
        if self.scaling_tasks is None:
            return "Scaling (task count unknown)"
        few, many = self.scaling_tasks
        return f"{few} {arrow} {many} tasks"

    def users_basis(self, brief: bool = False) -> str:
        """How `users_per_task` was found, as the answer says it (`brief`: a card's label)."""
        if self.users_at_knee:
            return "the knee" if brief else "the knee: past it, each added user only waits"
        if self.users_interpolated:
            return (
                "interpolated"
                if brief
                else "interpolated between the last good and the first bad step"
            )
        return MEASURED

    def users_text(self) -> str:
        """The limit per task as the terminal and the report cards both print it: "540-585"
        (last good to first bad step), "≥ 585" (a lower bound), "< 60" (the first step was
        already past it)."""
        return interval_text(self.users_low, self.users_high)

    def users_detail(self) -> str:
        """What `users_text` is: the interval's ends and the estimate within it, or why it
        is a lower bound."""
        if self.users_high is None:
            return f"a lower bound: {self.bound_reason or 'no step was past the limit'}"
        estimate = ""
        if self.users_per_task is not None and (self.users_interpolated or self.users_at_knee):
            estimate = f"; ≈ {self.users_per_task} {self.users_basis(brief=True)}"
        return f"last good step to first bad step{estimate}"

    def knee_text(self) -> str:
        """ "461", "≥ 461 (not reached)" or "not measured": terminal and cards alike."""
        if self.knee_users is None:
            return "not measured"
        return f"{self.knee_users}" if self.knee_reached else f"≥ {self.knee_users} (not reached)"

    def _usl_tasks(self) -> str:
        if self.tasks_needed_usl is not None:
            return f"; {self.tasks_needed_usl} by the USL fit"
        if self.usl_max_users is not None:
            return f"; by the USL fit no task count reaches it (at most {self.usl_max_users:.0f})"
        return ""


def _num(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "not measured" if value is None else f"{value:.{digits}f}{unit}"


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "it never went to ALARM"}[value]


@dataclass(frozen=True)
class UsersFinding:
    """How many users a task serves: the limit's interval and the estimate within it, the
    knee, and the service CPU there. Users per task, whole; `notes` say what bounds them."""

    users_per_task: int | None = None
    users_low: int | None = None
    users_high: int | None = None
    bound_reason: str | None = None
    users_interpolated: bool = False
    users_at_knee: bool = False
    knee_users: int | None = None
    knee_reached: bool = False
    cpu_at_slo: float | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScalingFinding:
    """How the fleet scales: tasks needed for the target, the throughput ratio and the USL
    fit between the two runs' task counts, and what limits the larger fleet."""

    limiting_part: str
    limiting_evidence: tuple[str, ...] = ()
    tasks_needed: int | None = None
    tasks_needed_usl: int | None = None
    usl_max_users: int | None = None
    scaling_tasks: tuple[int, int] | None = None
    throughput_ratio: float | None = None
    usl_sigma: float | None = None
    usl_kappa: float | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlarmFinding:
    """The alarm the answer speaks of (`alarm_name`, None: no alarm) and whether it went back
    to OK after the load (None: it never went to ALARM)."""

    alarm_name: str | None = None
    alarm_returned_to_ok: bool | None = None
    notes: tuple[str, ...] = ()


def build_answer(
    one: RecordedRun,
    more: RecordedRun | None = None,
    *,
    target_users: int = DEFAULT_TARGET_USERS,
    headroom: float = DEFAULT_HEADROOM,
    recommended_threshold: float | None = None,
    threshold_lead_s: float | None = None,
    seed_threshold: float = SEED_THRESHOLD,
    faults: Sequence[FaultLike] = (),
) -> Answer:
    """The answer from a run of `one` task (any task count works: users are divided by it)
    and an optional run with `more` tasks for the scaling figures; `faults`: `one`'s
    faults.json records, judged against its alarms and the recommended threshold."""
    limit = limit_of_steps(one.steps, one.slo)
    users = users_finding(one, limit)
    scaling = scaling_finding(
        one, more, limit, users.users_per_task, target_users=target_users, headroom=headroom
    )
    alarm = alarm_finding(one)
    return Answer(
        slo_p95_ms=one.slo.p95_ms,
        slo_failure_pct=one.slo.failure_pct,
        users_per_task=users.users_per_task,
        users_low=users.users_low,
        users_high=users.users_high,
        bound_reason=users.bound_reason,
        users_interpolated=users.users_interpolated,
        users_at_knee=users.users_at_knee,
        knee_users=users.knee_users,
        knee_reached=users.knee_reached,
        cpu_at_slo=users.cpu_at_slo,
        recommended_threshold=recommended_threshold,
        threshold_lead_s=threshold_lead_s,
        seed_threshold=seed_threshold,
        target_users=target_users,
        headroom=headroom,
        tasks_needed=scaling.tasks_needed,
        tasks_needed_usl=scaling.tasks_needed_usl,
        usl_max_users=scaling.usl_max_users,
        scaling_tasks=scaling.scaling_tasks,
        throughput_ratio=scaling.throughput_ratio,
        usl_sigma=scaling.usl_sigma,
        usl_kappa=scaling.usl_kappa,
        limiting_part=scaling.limiting_part,
        limiting_evidence=scaling.limiting_evidence,
        alarm_returned_to_ok=alarm.alarm_returned_to_ok,
        alarm_name=alarm.alarm_name,
        notes=(*_target_notes(one, more), *users.notes, *scaling.notes, *alarm.notes),
        faults=fault_verdicts(
            faults,
            recommended=recommended_alarm(one, recommended_threshold)
            if faults and recommended_threshold is not None
            else None,
        ),
    )


def users_finding(one: RecordedRun, limit: Limit) -> UsersFinding:
    """Users per task at `limit` (the one rule's, on `one`'s steps), the knee, and the CPU
    there; a run without a task count (an external target) gets no per-task figures."""
    tasks = one.tasks
    knee = limit.knee
    found = estimate_users(limit)
    # A first bad step that measured a saturated generator is not the target's limit: the last
    # good step stays, as a lower bound (rightsizer.analysis.generator_limit).
    generator = generator_limit(one.steps, limit)
    refused = generator.refuses and limit.reached
    users = limit.low if refused else found.users
    interpolated, at_knee = (False, False) if refused else (found.interpolated, found.at_knee)
    bound_reason = generator.reason or (None if limit.reached else _why_short(one, limit))
    notes = []
    if tasks is None:
        notes.append(_whole_target(users))
        if generator.reason is not None:
            notes.append(f"not the target's limit: {generator.reason}")
    elif bound_reason is not None:
        notes.append(f"users per task is a lower bound: {bound_reason}")
    elif at_knee and limit.first_bad is not None:
        notes.append(
            "users per task is taken at the knee, before the SLO broke: past it throughput "
            "stays at its peak and each added user only waits, which this closed test "
            "bounds (its users wait for answers) and production's arrivals do not"
        )
    if generator.sizing is not None:
        notes.append(generator.sizing)
    cpu = value_at_users(one.steps, users, "cpu_utilization") if users else None
    return UsersFinding(
        users_per_task=_per_task(users, tasks),
        users_low=_per_task(limit.low, tasks),
        users_high=None if refused else _per_task(limit.high, tasks),
        bound_reason=bound_reason if tasks else None,
        users_interpolated=interpolated,
        users_at_knee=at_knee,
        knee_users=_per_task(knee.users, tasks) if knee else None,
        knee_reached=limit.knee_reached,
        cpu_at_slo=None if cpu is None else round(cpu, 1),
        notes=tuple(notes),
    )


def scaling_finding(
    one: RecordedRun,
    more: RecordedRun | None,
    limit: Limit,
    users_per_task: int | None,
    *,
    target_users: int = DEFAULT_TARGET_USERS,
    headroom: float = DEFAULT_HEADROOM,
) -> ScalingFinding:
    """Tasks for `target_users` at `users_per_task`, and from `one` (its `limit`) to `more`
    tasks: the throughput ratio and, between two measured capacities, the USL fit."""
    tasks = one.tasks
    knee = limit.knee
    more_tasks = more.tasks if more else tasks
    scaling = (tasks, more_tasks) if tasks and more_tasks else None
    usl = None
    ratio = None
    # Before any scaling figure: was the machine (caps + HAProxy + generator) the limit?
    notes, machine_peak = rig_notes((one, more))
    more_limit = limit_of_steps(more.steps, more.slo) if more else None
    more_knee = more_limit.knee if more_limit else None
    if more and more_limit and knee and more_knee and scaling and scaling[1] != scaling[0]:
        ratio = more_knee.peak_throughput / knee.peak_throughput
        # A peak is the fleet's capacity once the plateau was measured, or once the SLO broke
        # (past that, more users only queue). A peak below both is the load's, and a law fitted
        # to it would call the fleet's scaling as poor as the load was light.
        short = [
            plural(n, "task")
            for n, reached in zip(scaling, (limit.reached, more_limit.reached), strict=True)
            if not reached
        ]
        if short:
            notes.append(
                f"{' and '.join(short)} reached neither the knee nor the SLO: the ratio "
                "compares loads, not capacities, and no USL is fitted"
            )
        elif machine_peak:
            notes.append("no USL is fitted: a peak throughput was this machine's, not the fleet's")
        else:
            usl = fit_usl(list(scaling), [knee.peak_throughput, more_knee.peak_throughput])
            if not usl.kappa_identified:
                notes.append("kappa needs three task counts; with two it is fixed at 0 (Amdahl)")
    plan = plan_capacity(users_per_task, target_users, headroom, usl) if users_per_task else None
    bottleneck = name_bottleneck(more or one)
    return ScalingFinding(
        limiting_part=bottleneck.part.value,
        limiting_evidence=bottleneck.evidence,
        tasks_needed=plan.linear_tasks if plan else None,
        tasks_needed_usl=plan.usl_tasks if plan else None,
        usl_max_users=_per_task(plan.usl_max_users, 1) if plan else None,
        scaling_tasks=scaling,
        throughput_ratio=None if ratio is None else round(ratio, 2),
        usl_sigma=None if usl is None else round(usl.sigma, 3),
        usl_kappa=None if usl is None else round(usl.kappa, 4),
        notes=tuple(notes),
    )


def alarm_finding(one: RecordedRun) -> AlarmFinding:
    """Whether the seed's alarm (the CPU alarm, else the first with a history) went back to
    OK after `one`'s load; a run stopped before its load ended is judged from its last
    record."""
    alarm = _seed_alarm(one.alarms)
    if alarm is None:
        return AlarmFinding()
    outcome = alarm_outcome(alarm.history, one.load_end or one.end)
    return AlarmFinding(
        alarm_name=alarm.name,
        alarm_returned_to_ok=returned_to_ok(outcome) if outcome else None,
        notes=()
        if alarm.metric_name == names.CPU_UTILIZATION
        else (f"no CPU alarm in this run: the alarm shown is {alarm.name}",),
    )


# Answer fields that are users per task (whole numbers).
_WHOLE_USERS = ("users_per_task", "users_low", "users_high", "knee_users", "usl_max_users")


def _seed_alarm(alarms: tuple[Alarm, ...]) -> Alarm | None:
    """The alarm the answer speaks of: one on CPUUtilization (the seed's; one with a history
    first), else the first alarm with a history (the answer then names it)."""
    cpu = [a for a in alarms if a.metric_name == names.CPU_UTILIZATION]
    recorded = [a for a in alarms if a.history]
    ordered = sorted(cpu, key=lambda a: not a.history) or recorded
    return ordered[0] if ordered else None


def _target_notes(one: RecordedRun, more: RecordedRun | None) -> list[str]:
    """What the runs' targets make of the figures: uncapped tasks are not the reservation
    the answer is for; an open-model run's users are pools, not the load."""
    notes = []
    if (rates := rate_limit(one)) is not None:
        notes.append(
            f"{one.label} ran an open model (--arrival-rate): its users are the pools that "
            "carried each step's rate, judged on the raw p95; on rates, "
            f"{rates.text}"
        )
    for run in (one, more):
        if run is not None and run.target.kind is TargetKind.FLEET and run.target.capped is False:
            notes.append(
                f"{run.label} ran {UNCAPPED}: its tasks had no CPU or memory limit, so its "
                "figures are not those of capped tasks"
            )
    if more is not None and more.tasks is None:
        notes.append(f"{more.label}: {HOST_SUMMARY}; no scaling figures")
    return notes


def _per_task(users: float | None, tasks: int | None) -> int | None:
    """Users per task, rounded down (a whole user; never more than was measured)."""
    if users is None or not tasks or not math.isfinite(users / tasks):
        return None
    return math.floor(users / tasks)


def _why_short(run: RecordedRun, limit: Limit) -> str:
    """Why no step was past the limit, in words."""
    if not limit.judged:
        return "no step measured anything to judge"
    top = max(run.steps, key=lambda s: (s.users, s.index))
    if top.generator_bound:
        return (
            f"the load generator was saturated at {top.users} users, so the load, not the "
            "target, was the limit (add load workers: --workers)"
        )
    return (
        f"no step up to {top.users} users broke the SLO or passed the knee: the load ended "
        "before the limit (more users or steps would reach it)"
    )


def _whole_target(users: float | None) -> str:
    within = (
        f"{math.floor(users)} users in all within the SLO" if users is not None else "no figure"
    )
    return f"{HOST_SUMMARY}: {within}; per task not computed"
