"""The README's configuration table is the settings' one definition, as it renders."""

from __future__ import annotations

from pathlib import Path

from rightsizer.config import KEYS, key_default, key_help

README = Path(__file__).parents[1] / "README.md"


def settings_table() -> str:
    """The table as `rightsizer.config` defines it: key, default, meaning."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    rows += [f"| `{key}` | `{key_default(key)}` | {key_help(key)} |" for key in KEYS]
    return "\n".join(rows)


def test_the_readme_shows_every_setting_as_config_defines_it() -> None:
    table = settings_table()
    assert table in README.read_text(), f"paste this into README.md:\n{table}"
