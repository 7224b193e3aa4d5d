"""Prices: the built-in table (AWS's published us-east-1 figures), flags and [prices]."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightsizer.config import load_settings, read_config_file
from rightsizer.errors import ConfigError
from rightsizer.sizing.prices import Architecture, Prices, resolve_prices
from rightsizer.sizing.task_size import TaskSize


def test_built_in_x86_figures_and_a_task_hour() -> None:
    prices = resolve_prices(Architecture.X86, vcpu_hour=None, gb_hour=None)
    assert (prices.vcpu_hour, prices.gb_hour) == (0.04048, 0.004445)
    # 0.25 x 0.04048 + 0.5 x 0.004445, by hand
    assert prices.task_hour(TaskSize(0.25, 512)) == pytest.approx(0.0123425)
    assert "us-east-1" in prices.source
    assert "2026" in prices.source
    assert "x86" in prices.source


def test_built_in_arm_is_cheaper() -> None:
    prices = resolve_prices(Architecture.ARM, vcpu_hour=None, gb_hour=None)
    assert (prices.vcpu_hour, prices.gb_hour) == (0.03238, 0.00356)
    assert prices.task_hour(TaskSize(1, 2048)) == pytest.approx(0.03238 + 2 * 0.00356)


def test_toml_table_then_flags_override(tmp_path: Path) -> None:
    toml = tmp_path / "rightsizer.toml"
    toml.write_text("tasks = 2\n[prices]\nvcpu_hour = 0.05\ngb_hour = 0.006\n")
    document = read_config_file(toml, "rightsizer.toml")
    assert load_settings(config_file=toml, env={}).tasks == 2  # the table does not upset it
    from_file = resolve_prices(Architecture.X86, vcpu_hour=None, gb_hour=None, document=document)
    assert (from_file.vcpu_hour, from_file.gb_hour) == (0.05, 0.006)
    assert from_file.source == "rightsizer.toml [prices]"
    mixed = resolve_prices(Architecture.X86, vcpu_hour=0.1, gb_hour=None, document=document)
    assert (mixed.vcpu_hour, mixed.gb_hour) == (0.1, 0.006)
    assert "--price-vcpu-hour" in mixed.source and "[prices]" in mixed.source


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('[prices]\nvcpu_hour = "cheap"\n', "prices.vcpu_hour: expected dollars per hour"),
        ("[prices]\ngb_hour = -1\n", "prices.gb_hour: expected dollars per hour above 0"),
        ("[prices]\nspot = 0.3\n", "prices.spot: unknown key"),
        ("prices = 3\n", "expected a table"),
    ],
)
def test_bad_price_table_names_the_key(tmp_path: Path, table: str, says: str) -> None:
    toml = tmp_path / "rightsizer.toml"
    toml.write_text(table)
    document = read_config_file(toml, "rightsizer.toml")
    with pytest.raises(ConfigError, match=says):
        resolve_prices(Architecture.X86, vcpu_hour=None, gb_hour=None, document=document)


def test_bad_flag_names_the_flag() -> None:
    with pytest.raises(ConfigError, match="--price-gb-hour"):
        resolve_prices(Architecture.X86, vcpu_hour=None, gb_hour=0.0)


def test_json_round_trip() -> None:
    prices = Prices(0.1, 0.01, "test")
    assert Prices.from_json(prices.to_json()) == prices
