from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rightsizer.alarms.history import read_history
from rightsizer.analysis.answer import Answer, build_answer
from rightsizer.analysis.limit import limit_of_steps
from rightsizer.analysis.recorded_run import load_run
from rightsizer.report import format as fmt
from rightsizer.report import summary
from rightsizer.report.html import write_report
from rightsizer.slo import Slo
from tests.analysis.helpers import fixture_run, run_of
from tests.analysis.helpers import step as make_step
from tests.report.page import read

DATA_URI = "data:image/png;base64,"
# steps.json keys shown in the per-step table, and how the page prints them.
PRINTED: dict[str, Callable[[float], str]] = {
    "users": lambda v: str(int(v)),
    "requests_total": lambda v: fmt.count(int(v)),
    "rps": fmt.rps,
    "p50_ms": fmt.ms,
    "p90_ms": fmt.ms,
    "p95_ms": fmt.ms,
    "p99_ms": fmt.ms,
    "max_ms": fmt.ms,
    "cpu_utilization": lambda v: fmt.pct(v, 1),
    "cpu_utilization_max": lambda v: fmt.pct(v, 1),
    "memory_utilization": lambda v: fmt.pct(v, 1),
    "generator_cpu": lambda v: fmt.pct(v, 1),
}


def steps_of(run: Path) -> list[dict[str, object]]:
    steps: list[dict[str, object]] = json.loads((run / "steps.json").read_text())["steps"]
    return steps


def test_the_step_table_shows_exactly_what_steps_json_holds(built: Path) -> None:
    page = read((built / "report.html").read_text())
    rows = page.rows("steps")
    steps = steps_of(built)
    assert len(rows) == len(steps)
    for (attrs, cells), step in zip(rows, steps, strict=True):
        assert int(attrs["data-index"]) == step["index"]
        by_key = {c.attrs["data-key"]: c for c in cells if "data-key" in c.attrs}
        for key, printed in PRINTED.items():
            value = step[key]
            assert isinstance(value, int | float)
            assert float(by_key[key].attrs["data-value"]) == pytest.approx(value, rel=1e-12)
            assert by_key[key].text == printed(value)
        failure = by_key["failure_pct"]
        assert float(failure.attrs["data-value"]) == pytest.approx(float(step["fail_ratio"]) * 100)  # type: ignore[arg-type]


def test_charts_are_inline_pngs_and_the_same_files_are_saved(built: Path) -> None:
    page = read((built / "report.html").read_text())
    assert {"chart-users-rps", "chart-latency", "chart-cpu", "chart-memory"} <= set(page.ids)
    files = sorted((built / "charts").glob("*.png"))
    assert len(page.images) == len(files) >= 4
    saved = {p.stem: p.read_bytes() for p in files}
    for image in page.images:
        assert image["src"].startswith(DATA_URI)
        png = base64.b64decode(image["src"].removeprefix(DATA_URI))
        assert png in saved.values()
        picture = Image.open(io.BytesIO(png))
        assert picture.format == "PNG"
        assert 800 <= picture.width <= 2400 and 250 <= picture.height <= 1200
        gray = np.asarray(picture.convert("L"), dtype=int)
        assert gray.max() - gray.min() > 100  # not a blank picture


def test_the_page_needs_no_network(built: Path) -> None:
    html = (built / "report.html").read_text()
    page = read(html)
    assert page.urls and all(u.startswith(("data:", "#")) for u in page.urls)
    style = html[html.index("<style>") : html.index("</style>")]
    assert "url(" not in style and "@import" not in style
    assert "<script" not in html and "<link" not in html


def test_the_answer_is_shown_only_when_given_and_kept_for_rebuilds(
    built: Path, one_task: Path, four_tasks: Path
) -> None:
    plain = read((built / "report.html").read_text())
    assert "the-answer" not in plain.ids and "The answer" not in plain.headings
    answer = build_answer(load_run(one_task), load_run(four_tasks), recommended_threshold=45.0)
    with_answer = read(write_report(one_task, answer=answer).report.read_text())
    assert with_answer.headings[0] == "The answer"
    text = " ".join(with_answer.text)
    assert answer.users_text() in text and answer.users_high is not None
    assert fmt.count(answer.tasks_needed) in text
    assert answer.limiting_part is not None and answer.limiting_part in text
    assert Answer.from_json(json.loads((one_task / "answer.json").read_text())) == answer
    rebuilt = read(write_report(one_task).report.read_text())
    assert rebuilt.headings[0] == "The answer"


def test_the_alarm_history_lists_every_transition_with_its_reason(built: Path) -> None:
    page = read((built / "report.html").read_text())
    history = read_history(built / "metrics.db")
    rows = page.rows("alarm-history")
    assert len(rows) == len(history) > 0
    for (_, cells), item in zip(rows, history, strict=True):
        assert cells[-1].text == item.reason
        assert item.old_state in cells[2].text and item.new_state in cells[2].text


def test_a_run_without_metrics_or_steps_still_gets_a_report(one_task: Path) -> None:
    (one_task / "metrics.db").unlink()
    written = write_report(one_task)
    page = read(written.report.read_text())
    assert "missing" in page.ids
    assert any("metrics.db: missing" in t for t in page.text)
    assert "chart-latency" not in page.ids and "chart-load-curve" in page.ids
    (one_task / "steps.json").unlink()
    page = read(write_report(one_task).report.read_text())
    assert any("No step was recorded" in t for t in page.text)
    assert page.images == []


def test_writes_leave_no_temporary_files(built: Path) -> None:
    leftovers = [p.name for p in built.rglob("*") if re.search(r"\.tmp$", p.name)]
    assert leftovers == []
    assert (built / "charts" / "cpu.png").is_file()


def header_facts(page_html: str) -> str:
    facts = page_html[page_html.index('<p class="facts">') : page_html.index("</header>")]
    return " ".join(read(facts).text)


def edit_manifest(run: Path, **changes: object) -> None:
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, **changes}))


def test_the_header_describes_the_target_the_fleet_reported(four_tasks: Path) -> None:
    manifest = json.loads((four_tasks / "manifest.json").read_text())
    page = write_report(four_tasks).report.read_text()
    target = manifest["target"]
    expected = f"{target['tasks']} tasks ({target['cpu']:g} vCPU, {target['memory']:g} MiB)"
    assert expected in header_facts(page)
    assert load_run(four_tasks).target.summary == expected


def test_a_host_run_is_not_reported_as_one_capped_task(one_task: Path) -> None:
    # manifest["settings"] holds tasks=1, cpu=0.25, memory=512 for --host runs too.
    edit_manifest(one_task, target={"kind": "host", "url": "http://127.0.0.1:9"})
    html = write_report(one_task).report.read_text()
    facts, text = header_facts(html), " ".join(read(html).text)
    assert "external target, tasks unknown" in facts
    assert "vCPU" not in facts and "1 task" not in facts
    assert "An external target" in text and "1 task (" not in text


def test_an_uncapped_fleet_says_so(four_tasks: Path) -> None:
    manifest = json.loads((four_tasks / "manifest.json").read_text())
    edit_manifest(four_tasks, target={**manifest["target"], "capped": False})
    html = write_report(four_tasks).report.read_text()
    assert "4 tasks, UNCAPPED" in header_facts(html)
    headline = html[html.index('<p class="headline">') :]
    assert "UNCAPPED" in headline[: headline.index("</p>")]
    assert "vCPU" not in header_facts(html)


def test_measured_and_interpolated_users_are_labelled(one_task: Path, four_tasks: Path) -> None:
    one = load_run(one_task)
    answer = build_answer(one, load_run(four_tasks))
    page = read(write_report(one_task, answer=answer).report.read_text())
    text = " ".join(page.text)
    limit = limit_of_steps(one.steps, one.slo)
    assert "Limit (users, last good to first bad step)" in text
    assert f"{limit.low}-{limit.high}" in text
    assert answer.users_interpolated  # the fixture's SLO breaks between two measured steps
    assert f"≈ {answer.users_per_task} interpolated" in text


def test_the_slo_column_is_the_one_slo_s_verdict(built: Path) -> None:
    run = load_run(built)
    page = read((built / "report.html").read_text())
    rows = page.rows("steps")
    assert len(rows) == len(run.steps)
    verdicts = []
    for (_, cells), step in zip(rows, run.steps, strict=True):
        met = run.slo.met(step.p95_ms, step.failure_pct)
        verdicts.append(met)
        assert cells[-1].text.startswith("met" if met else "missed")
        by_key = {c.attrs.get("data-key"): c for c in cells}
        p95_bad = "bad" in by_key["p95_ms"].attrs.get("class", "")
        assert p95_bad is not run.slo.met(step.p95_ms, None)
    assert True in verdicts  # the fixture has good steps ...
    assert False in verdicts  # ... and a step that broke its recorded SLO


def test_a_step_exactly_at_the_limit_is_shown_as_missed() -> None:
    at_limit = make_step(5, 0, p95_ms=1000.0, fail_ratio=0.01)
    (row,) = summary.step_rows(run_of([at_limit], Slo(p95_ms=1000.0, failure_pct=1.0)))
    assert row["slo"] == "missed: p95, failures"
    assert row["slo_reason"] == "p95 1000 ms ≥ 1000 ms; failures 1.00% ≥ 1%"
    tones = {c.key: c.tone for c in row["cells"]}
    assert tones["p95_ms"] == tones["failure_pct"] == "bad"
    (unjudged,) = summary.step_rows(run_of([make_step(5, 0)]))
    assert unjudged["slo"] == "–"


def test_a_search_run_is_reported_from_its_steps_alone(tmp_path: Path) -> None:
    run_dir = fixture_run(tmp_path, "search-1-task")  # steps.json and manifest.json only
    html = write_report(run_dir).report.read_text()
    run = load_run(run_dir)
    users = ", ".join(str(s.users) for s in run.steps)
    assert f"{users} (chosen by the search, in run order)" in header_facts(html)
    limit = limit_of_steps(run.steps, run.slo)
    assert limit.reached, "the fixture's search broke its SLO"
    assert f"between {limit.low} and {limit.high} users" in "".join(read(html).text)
    assert any("metrics.db: missing" in t for t in read(html).text)
