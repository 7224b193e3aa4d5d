"""The report's figure cards: a big number, a label and a line of detail each. The run's own
cards (users within the SLO, knee, peak, CPU, what limits, alarms), the answer's cards, and
both runs' cards side by side for the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

from rightsizer.analysis.alarm_episodes import alarm_outcome
from rightsizer.analysis.answer import Answer
from rightsizer.analysis.bottleneck import Part, name_bottleneck
from rightsizer.analysis.limit import estimate_users, interval_text, limit_of_steps
from rightsizer.analysis.recorded_run import Alarm, RecordedRun
from rightsizer.analysis.slo_limit import value_at_users
from rightsizer.analysis.target import plural
from rightsizer.report import format as fmt


@dataclass(frozen=True)
class Card:
    """A big number with a label and a line of detail; `tone` is good, bad or plain."""

    label: str
    value: str
    detail: str = ""
    tone: str = "plain"


def cards(run: RecordedRun) -> list[Card]:
    """The run's key figures, biggest question first. The limit and the knee are the one
    rule's (rightsizer.analysis.limit), as in the answer; users are whole numbers."""
    limit = limit_of_steps(run.steps, run.slo)
    knee = limit.knee
    estimate = estimate_users(limit)
    slo = f"p95 < {fmt.ms(run.slo.p95_ms)}, failures < {run.slo.failure_pct:g}%"
    label = "Limit (users, last good to first bad step)"
    value = interval_text(limit.low, limit.high)
    if limit.low is None and limit.high is None:
        users = Card(label, "none", f"no step was judged against {slo}", "bad")
    elif limit.first_bad is not None:
        why = limit.verdict(limit.first_bad).value
        basis = "interpolated" if estimate.interpolated else "the knee"
        at = (
            f"≈ {fmt.users(estimate.users)} {basis}; "
            if estimate.interpolated or estimate.at_knee
            else ""
        )
        users = Card(label, value, f"{at}first bad step {why}; {slo}", "good")
    else:
        users = Card(label, value, f"a lower bound: no step was past the limit; {slo}")
    result = [users]
    if knee is not None:
        value = fmt.users(knee.users) if knee.reached else f"≥ {fmt.users(knee.users)}"
        detail = "users, where throughput stops growing" if knee.reached else "not reached yet"
        result.append(Card("Knee", value, detail))
        result.append(
            Card(
                "Peak throughput",
                f"{fmt.rps(knee.peak_throughput)} rps",
                f"{fmt.rps(knee.per_user_throughput)} rps per user at low load",
            )
        )
    if estimate.users is not None:
        cpu = value_at_users(run.steps, estimate.users, "cpu_utilization")
        if cpu is not None:
            where = "CPU at the limit" if limit.reached else "CPU at the last good step"
            at = f"at ≈ {fmt.users(estimate.users)} users, "
            result.append(Card(where, fmt.pct(cpu, 1), f"service average {at}of the reservation"))
    bottleneck = name_bottleneck(run)
    tone = "good" if bottleneck.part is Part.NOTHING_YET else "plain"
    result.append(Card("What limits", bottleneck.part.value, bottleneck.evidence[0], tone))
    result += [_alarm_card(run, alarm) for alarm in run.alarms if alarm.history][:2]
    return result


def _alarm_card(run: RecordedRun, alarm: Alarm) -> Card:
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
    many = plural(answer.scaling_tasks[1], "task") if answer.scaling_tasks else ""
    # A single run (`rightsizer run`) has nothing to scale against: its answer has no such card.
    one_run = answer.scaling_tasks is not None and len(set(answer.scaling_tasks)) == 1
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
        usl = f"; by the USL fit no task count gets there (at most ≈ {answer.usl_max_users})"
    kappa = fmt.number(answer.usl_kappa, 4)
    result: list[Card | None] = [
        Card(
            "Users per task (SLO and knee)",
            answer.users_text(),
            f"{answer.users_detail()}; {slo}" if answer.users_low is not None else slo,
            "good" if answer.users_high is not None else "plain",
        ),
        Card("Knee (per task)", answer.knee_text(), "users, where throughput stops growing"),
        Card(
            "CPU at that point",
            fmt.pct(answer.cpu_at_slo, 1),
            "service average, of the reservation",
        ),
        Card("CPU alarm threshold", threshold, threshold_detail),
        Card(
            f"Tasks for {answer.target_users:,} users",
            fmt.count(answer.tasks_needed),
            f"with {answer.headroom:.0%} headroom, if tasks scaled linearly{usl}",
        ),
        None
        if one_run
        else Card(
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
    return [card for card in result if card is not None]


def glance(a: RecordedRun, b: RecordedRun) -> list[tuple[str, str, str]]:
    """(label, run A's value, run B's value) for every run card of either run."""
    values_a = {c.label: c.value for c in cards(a)}
    values_b = {c.label: c.value for c in cards(b)}
    labels = list(values_a) + [label for label in values_b if label not in values_a]
    return [(label, values_a.get(label, "–"), values_b.get(label, "–")) for label in labels]
