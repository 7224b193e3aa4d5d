from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rightsizer.cli import app

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
    assert "p95" in result.output and "20" in result.output and "better" in result.output
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
