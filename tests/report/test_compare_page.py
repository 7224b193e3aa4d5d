from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from rightsizer.report import format as fmt
from rightsizer.report.html import write_comparison
from tests.report.page import read


def steps_by_users(run: Path) -> dict[int, dict[str, float]]:
    steps = json.loads((run / "steps.json").read_text())["steps"]
    return {s["users"]: s for s in steps}


def test_the_comparison_page_matches_both_runs_steps(one_task: Path, four_tasks: Path) -> None:
    target, comparison = write_comparison(one_task, four_tasks)
    assert target == four_tasks / "compare.html"
    page = read(target.read_text())
    a, b = steps_by_users(one_task), steps_by_users(four_tasks)
    shared = sorted(set(a) & set(b))
    assert [s.users for s in comparison.steps] == shared
    rows = [attrs for attrs, _ in page.rows("comparison")]
    p95_rows = [
        (attrs, cells) for attrs, cells in page.rows("comparison") if attrs["data-key"] == "p95_ms"
    ]
    assert len(p95_rows) == len(shared) and len(rows) == 6 * len(shared)
    for users, (_, cells) in zip(shared, p95_rows, strict=True):
        values = [float(c.attrs["data-value"]) for c in cells if "data-value" in c.attrs]
        # The figure over the steady window from raw samples is the figure steps.json holds.
        assert values == pytest.approx([a[users]["p95_ms"], b[users]["p95_ms"]])
    headline = f"{shared[-1]} users: p95 {fmt.ms(a[shared[-1]]['p95_ms'])} -> "
    assert any(t.startswith(headline) for t in page.text)


def test_the_comparison_charts_are_inline_pngs(
    one_task: Path, four_tasks: Path, tmp_path: Path
) -> None:
    target, _ = write_comparison(one_task, four_tasks, tmp_path / "out" / "c.html")
    page = read(target.read_text())
    assert len(page.images) == 3
    for image in page.images:
        png = base64.b64decode(image["src"].split(",", 1)[1])
        picture = Image.open(io.BytesIO(png))
        assert picture.format == "PNG" and picture.width >= 800
    assert all(u.startswith(("data:", "#")) for u in page.urls)


def test_runs_without_shared_steps_still_compare(one_task: Path, four_tasks: Path) -> None:
    steps = json.loads((four_tasks / "steps.json").read_text())
    for step in steps["steps"]:
        step["users"] += 1000
    (four_tasks / "steps.json").write_text(json.dumps(steps))
    target, comparison = write_comparison(one_task, four_tasks)
    assert comparison.steps == ()
    page = read(target.read_text())
    # The per-step table, the per-task table and the bars are left out, with one line why.
    assert "differences" not in page.ids and "Per step, B against A" not in page.headings
    assert "comparison" not in page.tables and "per-task" not in page.tables
    [why] = [t for t in page.text if "share no users count" in t]
    assert "A ran 20, 150, 600" in why and "B ran 1060, 1150, 1600 users" in why
    assert len(page.images) == 2  # the curves and the timelines only


def test_runs_with_different_task_counts_get_per_task_figures(
    one_task: Path, four_tasks: Path
) -> None:
    target, comparison = write_comparison(one_task, four_tasks)
    page = read(target.read_text())
    a, b = steps_by_users(one_task), steps_by_users(four_tasks)
    rows = page.rows("per-task")
    assert [int(attrs["data-users"]) for attrs, _ in rows] == [s.users for s in comparison.steps]
    for attrs, cells in rows:
        users = int(attrs["data-users"])
        # Users per task: all of them on the one task, a quarter on each of the four.
        assert [c.text for c in cells[1:3]] == [str(users), f"{users / 4:.0f}"]
        values = [float(c.attrs["data-value"]) for c in cells if "data-value" in c.attrs]
        # RPS per task: each run's RPS (steps.json's, over the steady window) over its tasks.
        assert values == pytest.approx([a[users]["rps"], b[users]["rps"] / 4], rel=1e-6)
    # The headline sets the CPU per task of one shared step side by side.
    top = comparison.steps[-1].users
    assert any(t.startswith(f"{top} users: CPU per task ") for t in page.text)
    assert not [t for t in page.text if "left out" in t]
