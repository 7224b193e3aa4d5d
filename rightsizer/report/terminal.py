"""The comparison and the answer as Rich tables, for the terminal.

console.print(comparison_table(compare_runs(a, b)))
console.print(answer_table(answer))
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from rightsizer.analysis.answer import Answer
from rightsizer.analysis.comparison import Comparison
from rightsizer.report import cards
from rightsizer.report import format as fmt

_VERDICT_STYLE = {"better": "green", "worse": "red"}


def comparison_table(comparison: Comparison) -> Table:
    """One row per (step, figure): A, B, B - A with its interval, B / A, verdict."""
    table = Table(
        title=f"{comparison.a_label} (A) -> {comparison.b_label} (B)",
        caption=f"{comparison.confidence:.0%} bootstrap intervals over whole seconds, "
        f"{comparison.resamples} resamples, seed {comparison.seed}",
    )
    for header in ("users", "figure", "A", "B", "B - A", "interval of B - A", "B / A", ""):
        table.add_column(header, justify="left" if header in ("figure", "") else "right")
    for step in comparison.steps:
        for position, difference in enumerate(step.differences):
            kind = difference.measure
            verdict = fmt.verdict(difference)
            ratio = difference.ratio
            table.add_row(
                str(step.users) if position == 0 else "",
                kind.label,
                fmt.measure(kind, difference.a.value),
                fmt.measure(kind, difference.b.value),
                fmt.signed(kind, difference.delta.value),
                escape(fmt.interval(kind, difference.delta)),
                f"x{ratio:.2f}" if ratio is not None else fmt.NONE,
                f"[{_VERDICT_STYLE.get(verdict, 'dim')}]{verdict}[/]",
                end_section=position == len(step.differences) - 1,
            )
    return table


def answer_table(answer: Answer) -> Table:
    """The answer, one question a row."""
    table = Table(title="The answer", show_header=False)
    table.add_column("question", style="bold")
    table.add_column("value", justify="right")
    table.add_column("detail", style="dim")
    for card in cards.answer_cards(answer):
        colour = {"good": "green", "bad": "red"}.get(card.tone, "")
        value = f"[{colour}]{escape(card.value)}[/]" if colour else escape(card.value)
        table.add_row(escape(card.label), value, escape(card.detail))
    return table
