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
    assert any("share no users count" in t for t in page.text)
