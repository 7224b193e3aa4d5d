"""One figure, one value: users whole, percentages with one decimal at most, and each figure
reading the same in the terminal answer, answer.json, report.html and compare.html."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

from rich.console import Console

from rightsizer.analysis.answer import Answer
from rightsizer.analysis.limit import interval_text, limit_of_steps
from rightsizer.analysis.recorded_run import load_run
from rightsizer.demo.conclusion import conclude
from rightsizer.demo.plan import DemoPlan
from rightsizer.report import cards
from rightsizer.report.terminal import answer_table
from rightsizer.rundir import ANSWER, COMPARE
from tests.report.conftest import FIXTURES
from tests.report.page import read

USER_FIELDS = ("users_per_task", "users_low", "users_high", "knee_users", "usl_max_users")
# a users figure with decimals ("585.0 users", "≥ 494.9"), or a percentage with two or more
FRACTIONAL_USERS = re.compile(r"\d\.\d+ users|≥ \d+\.\d")
LONG_PERCENT = re.compile(r"\d\.\d{2,}%")


def demo_directory(tmp_path: Path) -> tuple[Path, Path, Path, Answer]:
    """A demo's output made from the recorded runs: both reports, compare.html, answer.json."""
    first = Path(shutil.copytree(FIXTURES / "run-1-task", tmp_path / "run-1-task"))
    second = Path(shutil.copytree(FIXTURES / "run-4-tasks", tmp_path / "run-4-tasks"))
    conclusion = conclude(DemoPlan(out=tmp_path), first, second, tmp_path)
    return first, second, tmp_path / COMPARE, conclusion.answer


def page_text(path: Path) -> str:
    return " ".join(" ".join(read(path.read_text()).text).split())


def terminal_text(answer: Answer) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(answer_table(answer))
    return "\n".join(answer.lines()) + "\n" + console.export_text()


def test_users_are_whole_and_figures_read_alike_everywhere(tmp_path: Path) -> None:
    first, _, compare, answer = demo_directory(tmp_path)
    saved = json.loads((first / ANSWER).read_text())
    # answer.json: users are JSON integers, percentages one decimal at most
    for key in USER_FIELDS:
        assert saved[key] is None or type(saved[key]) is int, (key, saved[key])
    assert saved["users_high"] is not None, "the recorded 1-task run broke its SLO"
    cpu = saved["cpu_at_slo"]
    assert cpu is not None and round(cpu, 1) == cpu
    assert Answer.from_json(saved) == answer

    terminal, report, comparison = (
        terminal_text(answer),
        page_text(first / "report.html"),
        (page_text(compare)),
    )
    for text in (terminal, report, comparison):
        assert not FRACTIONAL_USERS.search(text), FRACTIONAL_USERS.search(text)
        for key in USER_FIELDS:  # "268.0" where answer.json says 268
            assert saved[key] is None or f"{saved[key]}.0" not in text, key
        assert not LONG_PERCENT.search(text), LONG_PERCENT.search(text)
    # the same figure, the same text: the terminal, the answer's cards and answer.json
    users = interval_text(saved["users_low"], saved["users_high"])
    knee = answer.knee_text()
    assert str(saved["knee_users"]) in knee
    for text in (terminal, report):
        assert users in text and knee in text
        assert f"{cpu:.1f}%" in text
        assert f"≈ {saved['users_per_task']} " in text
    # the 1-task run's own card and compare.html's glance: the answer's interval (one task)
    one = load_run(first)
    run_cards = {c.label: c.value for c in cards.cards(one)}
    limit = limit_of_steps(one.steps, one.slo)
    assert run_cards["Limit (users, last good to first bad step)"] == users
    assert (limit.low, limit.high) == (saved["users_low"], saved["users_high"])
    assert users in comparison
    assert run_cards["Knee"] in comparison and run_cards["Knee"] in report
    knee_number = run_cards["Knee"].removeprefix("≥ ")
    assert knee_number == str(saved["knee_users"])
