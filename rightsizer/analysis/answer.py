"""The answer to the seed's questions, as the demo prints it and the report shows it.

`build_answer` computes it from a 1-task run and (optionally) a run with more tasks; the alarm
threshold comes from `rightsizer alarm replay`, which the caller runs and passes in. The report
renders an `Answer` in its section "The answer"; `to_dict`/`from_dict` keep it as answer.json
in the run directory so `rightsizer report` can rebuild the same page.

    answer = build_answer(one, four, target_users=2000, recommended_threshold=45.0)
    print("\\n".join(answer.lines()))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from rightsizer.alarms.sources import SEED_THRESHOLD
from rightsizer.analysis.alarm_episodes import alarm_outcome, returned_to_ok
from rightsizer.analysis.bottleneck import name_bottleneck
from rightsizer.analysis.capacity import DEFAULT_HEADROOM, DEFAULT_TARGET_USERS, plan_capacity
from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.run import Alarm, Run
from rightsizer.analysis.slo import MEASURED, users_at_slo, value_at_users
from rightsizer.analysis.steps import load_points
from rightsizer.analysis.target import HOST_SUMMARY, UNCAPPED, TargetKind, plural
from rightsizer.analysis.usl import fit_usl
from rightsizer.metrics import names
from rightsizer.slo import Slo


@dataclass(frozen=True)
class Answer:
    """Measured answers; None where the runs could not tell (the report says "not measured").

    `users_per_task`: users one task served within the SLO, interpolated between the last good
    and the first bad step (`users_interpolated`; False: the last good step's users, measured,
    when the SLO never broke or the figures do not bracket it; `users_at_knee`: the knee's,
    when the SLO held past it); `knee_users`: where throughput
    stops growing (`knee_reached` False: a lower bound); `cpu_at_slo`: service CPU % at
    `users_per_task`; `recommended_threshold`: the CPU alarm threshold that fired at least one
    period before the SLO broke (`threshold_lead_s` earlier; `threshold_event` names what it
    fired before when the SLO never broke), versus `seed_threshold`;
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
    users_per_task: float | None = None
    users_interpolated: bool = False
    users_at_knee: bool = False
    knee_users: float | None = None
    knee_reached: bool = False
    cpu_at_slo: float | None = None
    recommended_threshold: float | None = None
    threshold_lead_s: float | None = None
    threshold_event: str = "the SLO broke"
    seed_threshold: float = SEED_THRESHOLD
    target_users: int = DEFAULT_TARGET_USERS
    headroom: float = DEFAULT_HEADROOM
    tasks_needed: int | None = None
    tasks_needed_usl: int | None = None
    usl_max_users: float | None = None
    scaling_tasks: tuple[int, int] | None = (1, 4)
    throughput_ratio: float | None = None
    usl_sigma: float | None = None
    usl_kappa: float | None = None
    limiting_part: str | None = None
    limiting_evidence: tuple[str, ...] = ()
    alarm_returned_to_ok: bool | None = None
    alarm_name: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Answer:
        """Inverse of `to_dict`; unknown keys are ignored (older or newer answer.json)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        for key in ("scaling_tasks", "limiting_evidence", "notes"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def lines(self) -> list[str]:
        """The answer as the terminal prints it, one finding a line."""
        threshold = (
            f"{self.recommended_threshold:.0f}% (seed: {self.seed_threshold:.0f}%)"
            if self.recommended_threshold is not None
            else "not measured"
        )
        return [
            f"Users per task at the SLO (p95 < {self.slo_p95_ms / 1000:g} s, failures < "
            f"{self.slo_failure_pct:g}%): {_num(self.users_per_task)}"
            + (f" ({self.users_basis()})" if self.users_per_task is not None else ""),
            f"Knee (throughput stops growing): {_knee(self.knee_users, self.knee_reached)} users",
            f"CPU at that point: {_num(self.cpu_at_slo, '%')}",
            f"CPU alarm threshold that fires before the SLO breaks: {threshold}",
            f"Tasks for {self.target_users} users with {self.headroom:.0%} headroom: "
            f"{_num(self.tasks_needed, digits=0)} if tasks scaled linearly{self._usl_tasks()}",
            f"{self.scaling_label('->')}: throughput x{_num(self.throughput_ratio)}, USL sigma "
            f"{_num(self.usl_sigma, digits=3)}, kappa {_num(self.usl_kappa, digits=4)}",
            f"What limits: {self.limiting_part or 'not measured'}"
            + (f" ({'; '.join(self.limiting_evidence)})" if self.limiting_evidence else ""),
            f"Alarm{f' {self.alarm_name}' if self.alarm_name else ''} back to OK after the "
            f"load: {_yes_no(self.alarm_returned_to_ok)}",
        ]

    def scaling_label(self, arrow: str) -> str:
        """ "1 -> 4 tasks", or what is unknown."""
        if self.scaling_tasks is None:
            return "Scaling (task count unknown)"
        few, many = self.scaling_tasks
        return f"{few} {arrow} {many} tasks"

    def users_basis(self, brief: bool = False) -> str:
        """How `users_per_task` was found, as the answer says it (`brief`: a card's label)."""
        if self.users_at_knee:
            return "the knee" if brief else "the knee: the SLO held past it only while queues built"
        if self.users_interpolated:
            return (
                "interpolated"
                if brief
                else "interpolated between the last good and the first bad step"
            )
        return MEASURED

    def _usl_tasks(self) -> str:
        if self.tasks_needed_usl is not None:
            return f"; {self.tasks_needed_usl} by the USL fit"
        if self.usl_max_users is not None:
            return f"; by the USL fit no task count reaches it (at most {self.usl_max_users:.0f})"
        return ""


def _num(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "not measured" if value is None else f"{value:.{digits}f}{unit}"


def _knee(users: float | None, reached: bool) -> str:
    return _num(users) if users is None or reached else f">= {users:.1f} (not reached)"


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "it never went to ALARM"}[value]


def build_answer(
    one: Run,
    more: Run | None = None,
    *,
    target_users: int = DEFAULT_TARGET_USERS,
    headroom: float = DEFAULT_HEADROOM,
    recommended_threshold: float | None = None,
    threshold_lead_s: float | None = None,
    seed_threshold: float = SEED_THRESHOLD,
) -> Answer:
    """The answer from a run of `one` task (any task count works: users are divided by it)
    and an optional run with `more` tasks for the scaling figures."""
    tasks = one.tasks
    limit = users_at_slo(one.steps, one.slo)
    knee = find_knee(load_points(one.steps))
    notes = _target_notes(one, more)
    users = limit.users
    at_knee = False
    if tasks is None:
        notes.append(_whole_target(limit.users))
    elif not limit.broke and users is not None and knee and knee.reached and users > knee.users:
        # Past N* a closed system's response time grows with every user (R = N / Xmax - Z):
        # the queue breaks any SLO given time; a short step ends first.
        notes.append(
            f"the SLO held up to {users:.0f} users, past the knee at {knee.users:.0f}: there "
            "each added user only queues and the response time grows until the SLO breaks, "
            "which these steps ended too soon to see; users per task is taken at the knee"
        )
        users, at_knee = knee.users, True
    elif not limit.broke and users is not None:
        notes.append("the SLO never broke: users per task is a lower bound")
    users_per_task = users / tasks if users is not None and tasks else None
    cpu = value_at_users(one.steps, users, "cpu_utilization") if users else None
    more_tasks = more.tasks if more else tasks
    scaling = (tasks, more_tasks) if tasks and more_tasks else None
    ratio = sigma = kappa = None
    usl = None
    more_knee = find_knee(load_points(more.steps)) if more else None
    if more and knee and more_knee and scaling and scaling[1] != scaling[0]:
        ratio = more_knee.peak_throughput / knee.peak_throughput
        # A peak is the fleet's capacity once the plateau was measured, or once the SLO broke
        # (past that, more users only queue). A peak below both is the load's, and a law fitted
        # to it would call the fleet's scaling as poor as the load was light.
        limits = (limit, users_at_slo(more.steps, more.slo))
        short = [
            plural(n, "task")
            for n, k, at_slo in zip(scaling, (knee, more_knee), limits, strict=True)
            if not (k.reached or at_slo.broke)
        ]
        if short:
            notes.append(
                f"{' and '.join(short)} reached neither the knee nor the SLO: the ratio "
                "compares loads, not capacities, and no USL is fitted"
            )
        else:
            usl = fit_usl(list(scaling), [knee.peak_throughput, more_knee.peak_throughput])
            sigma, kappa = usl.sigma, usl.kappa
            if not usl.kappa_identified:
                notes.append("kappa needs three task counts; with two it is fixed at 0 (Amdahl)")
    plan = plan_capacity(users_per_task, target_users, headroom, usl) if users_per_task else None
    bottleneck = name_bottleneck(more or one)
    alarm = _seed_alarm(one.alarms)
    # A run stopped before its load ended is judged from its last record.
    outcome = alarm_outcome(alarm.history, one.load_end or one.end) if alarm else None
    if alarm is not None and alarm.metric_name != names.CPU_UTILIZATION:
        notes.append(f"no CPU alarm in this run: the alarm shown is {alarm.name}")
    return Answer(
        slo_p95_ms=one.slo.p95_ms,
        slo_failure_pct=one.slo.failure_pct,
        users_per_task=users_per_task,
        users_interpolated=limit.interpolated,
        users_at_knee=at_knee,
        knee_users=knee.users / tasks if knee and tasks else None,
        knee_reached=bool(knee and knee.reached),
        cpu_at_slo=cpu,
        recommended_threshold=recommended_threshold,
        threshold_lead_s=threshold_lead_s,
        seed_threshold=seed_threshold,
        target_users=target_users,
        headroom=headroom,
        tasks_needed=plan.linear_tasks if plan else None,
        tasks_needed_usl=plan.usl_tasks if plan else None,
        usl_max_users=plan.usl_max_users if plan else None,
        scaling_tasks=scaling,
        throughput_ratio=ratio,
        usl_sigma=sigma,
        usl_kappa=kappa,
        limiting_part=bottleneck.part.value,
        limiting_evidence=bottleneck.evidence,
        alarm_returned_to_ok=returned_to_ok(outcome) if outcome else None,
        alarm_name=alarm.name if alarm else None,
        notes=tuple(notes),
    )


def _seed_alarm(alarms: tuple[Alarm, ...]) -> Alarm | None:
    """The alarm the answer speaks of: one on CPUUtilization (the seed's; one with a history
    first), else the first alarm with a history (the answer then names it)."""
    cpu = [a for a in alarms if a.metric_name == names.CPU_UTILIZATION]
    recorded = [a for a in alarms if a.history]
    ordered = sorted(cpu, key=lambda a: not a.history) or recorded
    return ordered[0] if ordered else None


def _target_notes(one: Run, more: Run | None) -> list[str]:
    """What the runs' targets make of the figures: uncapped tasks are not the reservation
    the answer is for."""
    notes = []
    for run in (one, more):
        if run is not None and run.target.kind is TargetKind.FLEET and run.target.capped is False:
            notes.append(
                f"{run.label} ran {UNCAPPED}: its tasks had no CPU or memory limit, so its "
                "figures are not those of capped tasks"
            )
    if more is not None and more.tasks is None:
        notes.append(f"{more.label}: {HOST_SUMMARY}; no scaling figures")
    return notes


def _whole_target(users: float | None) -> str:
    within = f"{users:.1f} users in all within the SLO" if users is not None else "no figure"
    return f"{HOST_SUMMARY}: {within}; per task not computed"
