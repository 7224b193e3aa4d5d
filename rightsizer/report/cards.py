"""The report's figure cards: a big number, a label and a line of detail each. The run's own
cards (users within the SLO, knee, peak, CPU, what limits, alarms), the answer's cards, and
both runs' cards side by side for the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

from rightsizer.analysis.alarm_episodes import alarm_outcome
from rightsizer.analysis.answer import Answer
from rightsizer.analysis.bottleneck import Part, name_bottleneck
from rightsizer.analysis.knee import find_knee
from rightsizer.analysis.run import Alarm, Run
from rightsizer.analysis.slo import MEASURED, users_at_slo, value_at_users
from rightsizer.analysis.steps import load_points
from rightsizer.report import format as fmt


@dataclass(frozen=True)
class Card:
    """A big number with a label and a line of detail; `tone` is good, bad or plain."""

    label: str
    value: str
    detail: str = ""
    tone: str = "plain"


def cards(run: Run) -> list[Card]:
    """The run's key figures, biggest question first."""
    limit = users_at_slo(run.steps, run.slo)
    knee = find_knee(load_points(run.steps))
    slo = f"p95 < {fmt.ms(run.slo.p95_ms)}, failures < {run.slo.failure_pct:g}%"
    label = f"Users within the SLO ({MEASURED})"
    if limit.measured_users is None:
        users = Card(label, "none", f"no step met {slo}", "bad")
    elif limit.broke:
        estimate = f"interpolated ≈ {limit.users:.1f}; " if limit.interpolated else ""
        users = Card(label, str(limit.measured_users), f"{estimate}{slo}", "good")
    else:
        users = Card(label, f"≥ {limit.measured_users}", f"held at every step; {slo}")
    result = [users]
    if knee is not None:
        value = f"{knee.users:.1f}" if knee.reached else f"≥ {knee.users:.0f}"
        detail = "users, where throughput stops growing" if knee.reached else "not reached yet"
        result.append(Card("Knee", value, detail))
        result.append(
            Card(
                "Peak throughput",
                f"{fmt.rps(knee.peak_throughput)} rps",
                f"{fmt.rps(knee.per_user_throughput)} rps per user at low load",
            )
        )
    if limit.users is not None:
        cpu = value_at_users(run.steps, limit.users, "cpu_utilization")
        if cpu is not None:
            where = "CPU at the SLO limit" if limit.broke else "CPU at the highest step"
            at = f"at ≈ {limit.users:.1f} users, " if limit.interpolated else ""
            result.append(Card(where, fmt.pct(cpu), f"service average {at}of the reservation"))
    bottleneck = name_bottleneck(run)
    tone = "good" if bottleneck.part is Part.NOTHING_YET else "plain"
    result.append(Card("What limits", bottleneck.part.value, bottleneck.evidence[0], tone))
    result += [_alarm_card(run, alarm) for alarm in run.alarms if alarm.history][:2]
    return result


def _alarm_card(run: Run, alarm: Alarm) -> Card:
    load_end = run.load_end or run.end
    outcome = alarm_outcome(alarm.history, load_end)
    label = f"Alarm {alarm.name}"
    final = outcome.final_state.value if outcome.final_state else "–"
    if outcome.first_alarm is None:
        return Card(label, "never fired", f"final state {final}")
    fired = f"ALARM at {fmt.clock(outcome.first_alarm - run.origin)}"
    flaps = f"; {outcome.flaps} flap{'s' if outcome.flaps != 1 else ''}" if outcome.flaps else ""
    after = outcome.back_to_ok_after(load_end)
    if after is None:
        return Card(label, final, f"{fired}; not back to OK after the load{flaps}", "bad")
    when = f"{fmt.clock(after)} after the load" if after > 0 else "as the load ended"
    return Card(label, "back to OK", f"{fired}; OK {when}{flaps}", "good")


def answer_cards(answer: Answer) -> list[Card]:
    """The answer, one card per question."""
    many = f"{answer.scaling_tasks[1]} tasks" if answer.scaling_tasks else ""
    slo = f"p95 < {fmt.ms(answer.slo_p95_ms)}, failures < {answer.slo_failure_pct:g}%"
    threshold = "not measured"
    threshold_detail = f"the seed used {answer.seed_threshold:g}%"
    if answer.recommended_threshold is not None:
        threshold = fmt.pct(answer.recommended_threshold)
        lead = answer.threshold_lead_s
        fires = f"fires {lead:.0f} s before {answer.threshold_event}; " if lead is not None else ""
        threshold_detail = f"{fires}the seed used {answer.seed_threshold:g}%"
    usl = ""
    if answer.tasks_needed_usl is not None:
        usl = f"; {answer.tasks_needed_usl} by the USL fit"
    elif answer.usl_max_users is not None:
        usl = f"; by the USL fit no task count gets there (at most ≈ {answer.usl_max_users:.0f})"
    kappa = fmt.number(answer.usl_kappa, 4)
    result = [
        Card(
            f"Users per task at the SLO ({answer.users_basis(brief=True)})",
            fmt.number(answer.users_per_task),
            slo,
            "good" if answer.users_per_task is not None else "plain",
        ),
        Card(
            "Knee (per task)",
            fmt.number(answer.knee_users)
            if answer.knee_reached
            else f"≥ {fmt.number(answer.knee_users)}",
            "users, where throughput stops growing",
        ),
        Card(
            "CPU at that point", fmt.pct(answer.cpu_at_slo), "service average, of the reservation"
        ),
        Card("CPU alarm threshold", threshold, threshold_detail),
        Card(
            f"Tasks for {answer.target_users:,} users",
            fmt.count(answer.tasks_needed),
            f"with {answer.headroom:.0%} headroom, if tasks scaled linearly{usl}",
        ),
        Card(
            answer.scaling_label("→"),
            f"×{fmt.number(answer.throughput_ratio, 2)}",
            f"throughput; USL σ {fmt.number(answer.usl_sigma, 3)}, κ {kappa}",
        ),
        Card(
            f"What limits {many}" if many else "What limits",
            answer.limiting_part or "not measured",
            "; ".join(answer.limiting_evidence),
        ),
        Card(
            "Alarm back to OK after the load",
            {True: "yes", False: "no", None: "never fired"}[answer.alarm_returned_to_ok],
            answer.alarm_name or "no alarm recorded",
            {True: "good", False: "bad", None: "plain"}[answer.alarm_returned_to_ok],
        ),
    ]
    return result


def glance(a: Run, b: Run) -> list[tuple[str, str, str]]:
    """(label, run A's value, run B's value) for every run card of either run."""
    values_a = {c.label: c.value for c in cards(a)}
    values_b = {c.label: c.value for c in cards(b)}
    labels = list(values_a) + [label for label in values_b if label not in values_a]
    return [(label, values_a.get(label, "–"), values_b.get(label, "–")) for label in labels]
