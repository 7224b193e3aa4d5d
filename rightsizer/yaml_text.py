"""Block-style YAML of plain trees (dicts, lists, scalars), whose scalars may carry a comment:
the files rightsizer writes for other tools (CloudFormation, Prometheus rules, Kubernetes
objects). PyYAML writes no comments, and these trees need no more than this.

    yaml_document({"cpu": Noted("250m", "CPU at 14 users per pod")}, header=("by rightsizer",))
    # by rightsizer
    # cpu: "250m"  # CPU at 14 users per pod

Strings are written as JSON strings (a valid YAML double-quoted scalar), so no value is read
back as another type ("512" stays a string, "on" is not a boolean); numbers as Python's repr,
which YAML reads back exactly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")


@dataclass(frozen=True)
class Noted:
    """A scalar and the comment written after it."""

    value: str | int | float | bool | None
    note: str


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def _leaf(value: Any) -> str:
    if isinstance(value, Noted):
        return f"{_scalar(value.value)}  # {' '.join(value.note.split())}"
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return _scalar(value)


def _key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) else json.dumps(key)


def yaml_lines(value: Any, indent: int = 0) -> list[str]:
    """The lines of `value` (dicts, lists, scalars, Noted scalars) at `indent` spaces."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines += [f"{pad}{_key(key)}:", *yaml_lines(item, indent + 2)]
            else:
                lines.append(f"{pad}{_key(key)}: {_leaf(item)}")
        return lines
    for item in value:
        if isinstance(item, dict | list) and item:
            nested = yaml_lines(item, indent + 2)
            lines += [f"{pad}- {nested[0].lstrip()}", *nested[1:]]
        else:
            lines.append(f"{pad}- {_leaf(item)}")
    return lines


def yaml_document(value: Any, header: tuple[str, ...] = ()) -> str:
    """One YAML document, with `header` lines as comments on top, ending with a newline."""
    return "\n".join([*(f"# {line}" for line in header), *yaml_lines(value)]) + "\n"
