"""The README's IAM policy allows exactly the AWS operations rightsizer calls: every call goes
through `aws_errors("Operation")`, so the source names them all."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def called_operations() -> set[str]:
    source = "\n".join(p.read_text() for p in (ROOT / "rightsizer").rglob("*.py"))
    return set(re.findall(r'aws_errors\(\s*"(\w+)"\s*\)', source))


def policy_actions() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## On AWS") :]
    policy = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))  # type: ignore[union-attr]
    return {a for s in policy["Statement"] for a in s["Action"]}


def test_the_policy_allows_exactly_the_operations_called() -> None:
    actions = policy_actions()
    assert {a.split(":", 1)[1] for a in actions} == called_operations()
    assert {a.split(":", 1)[0] for a in actions} == {"cloudwatch", "ecs", "elasticloadbalancing"}
