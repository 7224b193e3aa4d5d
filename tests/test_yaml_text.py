"""The YAML writer of the emitted settings: values read back as written, comments kept apart."""

from __future__ import annotations

import pytest

from rightsizer.yaml_text import Noted, yaml_document

yaml = pytest.importorskip("yaml")  # PyYAML comes with uvicorn[standard]; used to read back


def test_tricky_values_read_back_as_written() -> None:
    tree = {
        "cpu": "512",
        "flag": "on",
        "colon": "a: b",
        "hash": "#x",
        "needs quoting": [1, 2.5, True, None, "no"],
        "empty": {},
        "nested": {"list": [{"Name": "ClusterName", "Value": {"Ref": "ClusterName"}}]},
    }
    assert yaml.safe_load(yaml_document(tree)) == tree


def test_noted_values_carry_their_comment_on_their_line() -> None:
    text = yaml_document(
        {"a": Noted(31, "CPU at 156 users\n per task"), "b": Noted("78m", "x # y")},
        header=("made by a test",),
    )
    assert yaml.safe_load(text) == {"a": 31, "b": "78m"}
    lines = text.splitlines()
    assert lines[0] == "# made by a test"
    assert lines[1] == "a: 31  # CPU at 156 users per task"
    assert lines[2] == 'b: "78m"  # x # y'
