from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from rightsizer.analysis.comparison import compare_runs
from rightsizer.analysis.recorded_run import load_run
from rightsizer.cli import app
from rightsizer.report import format as fmt

runner = CliRunner()


def test_report_rebuilds_each_run(one_task: Path, four_tasks: Path) -> None:
    result = runner.invoke(app, ["report", str(one_task), str(four_tasks)])
    assert result.exit_code == 0, result.output
    assert (one_task / "report.html").is_file() and (four_tasks / "report.html").is_file()
    assert "5 charts" in result.output


def test_compare_prints_the_table_and_writes_the_page(
    one_task: Path, four_tasks: Path, tmp_path: Path
) -> None:
    target = tmp_path / "cmp.html"
    result = runner.invoke(app, ["compare", str(one_task), str(four_tasks), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file()
    comparison = compare_runs(load_run(one_task), load_run(four_tasks))
    assert comparison.steps, "the fixture runs share users counts"
    figures, per_task = result.output.split("per task: A with 1, B with 4")
    rows = [line.split("│") for line in figures.splitlines() if "│" in line]
    # One row per (step, figure); the users count opens each step's first row.
    assert [r[1].strip() for r in rows if r[1].strip()] == [str(c.users) for c in comparison.steps]
    # Then one row per step divided among each run's tasks (1 and 4): users per task.
    cells = [[c.strip() for c in line.split("│")[1:4]] for line in per_task.splitlines()]
    cells = [c for c in cells if len(c) == 3 and c[0].isdigit()]
    assert cells == [[str(c.users), str(c.users), f"{c.users / 4:.0f}"] for c in comparison.steps]
    verdicts = {fmt.verdict(d) for c in comparison.steps for d in c.differences}
    for word in ("better", "worse"):
        assert (word in result.output) is (word in verdicts)
    into_dir = runner.invoke(
        app, ["compare", str(one_task), str(four_tasks), "--out", str(tmp_path)]
    )
    assert into_dir.exit_code == 0 and (tmp_path / "compare.html").is_file()


def test_bad_arguments_are_one_line_errors_with_exit_2(one_task: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert missing.output.strip().startswith("error:") and "not a run directory" in missing.output
    assert len(missing.output.strip().splitlines()) == 1
    wrong = runner.invoke(
        app, ["compare", str(one_task), str(one_task), "--out", str(tmp_path / "x.db")]
    )
    assert wrong.exit_code == 2 and "--out" in wrong.output
    assert not (tmp_path / "x.db").exists()


def one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0]


def test_a_corrupt_metrics_db_is_a_one_line_error(one_task: Path) -> None:
    db = one_task / "metrics.db"
    db.write_bytes(db.read_bytes()[:4096])
    one_line_error(runner.invoke(app, ["report", str(one_task)]), str(db))
    db.write_text("not sqlite at all\n")
    one_line_error(runner.invoke(app, ["report", str(one_task)]), str(db), "metric store")
    assert not (one_task / "report.html").exists()


def test_a_manifest_that_is_not_an_object_is_a_one_line_error(one_task: Path) -> None:
    (one_task / "manifest.json").write_text("[1, 2, 3]")
    one_line_error(runner.invoke(app, ["report", str(one_task)]), "manifest.json", "JSON object")


def test_a_run_under_a_hash_path_is_reported(tmp_path: Path, one_task: Path) -> None:
    odd = one_task.rename(tmp_path / "runs #1?")
    result = runner.invoke(app, ["report", str(odd)])
    assert result.exit_code == 0, result.output
    assert (odd / "report.html").is_file()
    assert sorted(p.name for p in odd.iterdir() if p.name.startswith("metrics")) == ["metrics.db"]
