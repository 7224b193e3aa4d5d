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

from rightsizer.analysis.alarm_episodes import alarm_outcome
from rightsizer.analysis.bottleneck import name_bottleneck
from rightsizer.analysis.capacity import DEFAULT_HEADROOM, DEFAULT_TARGET_USERS, plan_capacity
from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.run import Run
from rightsizer.analysis.slo import users_at_slo, value_at_users
from rightsizer.analysis.steps import Slo, load_points
from rightsizer.analysis.usl import fit_usl

SEED_THRESHOLD = 20.0


@dataclass(frozen=True)
class Answer:
    """Measured answers; None where the runs could not tell (the report says "not measured").

    `users_per_task`: users one task served within the SLO; `knee_users`: where throughput
    stops growing (`knee_reached` False: a lower bound); `cpu_at_slo`: service CPU % at
    `users_per_task`; `recommended_threshold`: the CPU alarm threshold that fired at least one
    period before the SLO broke (`threshold_lead_s` earlier), versus `seed_threshold`;
    `tasks_needed`: for `target_users` with `headroom` (linear), `tasks_needed_usl` following
    the USL (None: not reachable or not fitted), `usl_max_users` the most users any task count
    serves by the USL, with headroom; `throughput_ratio`: peak RPS of
    `scaling_tasks[1]` over `scaling_tasks[0]` tasks; `usl_sigma`, `usl_kappa`: the fit;
    `limiting_part` and `limiting_evidence`: what limits the larger fleet;
    `alarm_returned_to_ok`: the alarm went back to OK after the load stopped."""

    slo_p95_ms: float = Slo.p95_ms
    slo_failure_pct: float = Slo.failure_pct
    users_per_task: float | None = None
    knee_users: float | None = None
    knee_reached: bool = False
    cpu_at_slo: float | None = None
    recommended_threshold: float | None = None
    threshold_lead_s: float | None = None
    seed_threshold: float = SEED_THRESHOLD
    target_users: int = DEFAULT_TARGET_USERS
    headroom: float = DEFAULT_HEADROOM
    tasks_needed: int | None = None
    tasks_needed_usl: int | None = None
    usl_max_users: float | None = None
    scaling_tasks: tuple[int, int] = (1, 4)
    throughput_ratio: float | None = None
    usl_sigma: float | None = None
    usl_kappa: float | None = None
    limiting_part: str | None = None
    limiting_evidence: tuple[str, ...] = ()
    alarm_returned_to_ok: bool | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Answer:
        """Inverse of `to_dict`; unknown keys are ignored (older or newer answer.json)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        for key in ("scaling_tasks", "limiting_evidence", "notes"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def lines(self) -> list[str]:
        """The answer as the terminal prints it, one finding a line."""
        few, many = self.scaling_tasks
        threshold = (
            f"{self.recommended_threshold:.0f}% (seed: {self.seed_threshold:.0f}%)"
            if self.recommended_threshold is not None
            else "not measured"
        )
        return [
            f"Users per task at the SLO (p95 < {self.slo_p95_ms / 1000:g} s, failures < "
            f"{self.slo_failure_pct:g}%): {_num(self.users_per_task)}",
            f"Knee (throughput stops growing): {_knee(self.knee_users, self.knee_reached)} users",
            f"CPU at that point: {_num(self.cpu_at_slo, '%')}",
            f"CPU alarm threshold that fires before the SLO breaks: {threshold}",
            f"Tasks for {self.target_users} users with {self.headroom:.0%} headroom: "
            f"{_num(self.tasks_needed, digits=0)} if tasks scaled linearly{self._usl_tasks()}",
            f"{few} -> {many} tasks: throughput x{_num(self.throughput_ratio)}, USL sigma "
            f"{_num(self.usl_sigma, digits=3)}, kappa {_num(self.usl_kappa, digits=4)}",
            f"What limits: {self.limiting_part or 'not measured'}"
            + (f" ({'; '.join(self.limiting_evidence)})" if self.limiting_evidence else ""),
            f"Alarm back to OK after the load: {_yes_no(self.alarm_returned_to_ok)}",
        ]

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
    tasks = one.tasks or 1
    limit = users_at_slo(one.steps, one.slo)
    knee = find_knee(load_points(one.steps))
    users_per_task = limit.users / tasks if limit.users is not None else None
    cpu = value_at_users(one.steps, limit.users, "cpu_utilization") if limit.users else None
    notes = [] if limit.broke else ["the SLO never broke: users per task is a lower bound"]
    scaled = more or one
    scaling = (tasks, scaled.tasks or 1)
    ratio = sigma = kappa = None
    usl = None
    more_knee = find_knee(load_points(more.steps)) if more else None
    if knee and more_knee and scaling[1] != scaling[0]:
        ratio = more_knee.peak_throughput / knee.peak_throughput
        usl = fit_usl(list(scaling), [knee.peak_throughput, more_knee.peak_throughput])
        sigma, kappa = usl.sigma, usl.kappa
        if not usl.kappa_identified:
            notes.append("kappa needs three task counts; with two it is fixed at 0 (Amdahl)")
        if not more_knee.reached:
            notes.append(f"{scaling[1]} tasks did not reach their knee: the ratio is a floor")
    plan = plan_capacity(users_per_task, target_users, headroom, usl) if users_per_task else None
    bottleneck = name_bottleneck(scaled)
    outcomes = [alarm_outcome(a.history, one.load_end) for a in one.alarms if a.history]
    returned = outcomes[0].returned_to_ok if outcomes else None
    return Answer(
        slo_p95_ms=one.slo.p95_ms,
        slo_failure_pct=one.slo.failure_pct,
        users_per_task=users_per_task,
        knee_users=knee.users / tasks if knee else None,
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
        alarm_returned_to_ok=returned,
        notes=tuple(notes),
    )
