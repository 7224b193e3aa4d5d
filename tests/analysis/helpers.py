"""Small builders for analysis tests: steps and runs with only the figures a test needs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from rightsizer.analysis.recorded_run import RecordedRun
from rightsizer.analysis.target import RecordedTarget
from rightsizer.manifest import Manifest
from rightsizer.slo import Slo
from rightsizer.stepsfile import Step

T0 = 1_800_000_000.0


def step(users: int, index: int = 0, step_time: float = 60.0, **figures: Any) -> Step:
    """A step at `users` whose window is [T0 + index * step_time, + step_time)."""
    start = T0 + index * step_time
    return Step(
        index=index,
        users=users,
        start=start,
        end=start + step_time,
        steady_start=start + 0.2 * step_time,
        **figures,
    )


def fleet(tasks: int = 1, capped: bool = True) -> dict[str, Any]:
    """manifest["target"] as `rightsizer run` writes it for a fleet it started."""
    return {
        "kind": "fleet",
        "url": "http://127.0.0.1:1",
        "tasks": tasks,
        "cpu": 0.25,
        "memory": 512,
        "capped": capped,
    }


def run_of(steps: list[Step], slo: Slo | None = None, **fields: Any) -> RecordedRun:
    target = fields.pop("target", None) or fleet(fields.pop("tasks", 1))
    manifest = {"label": "test", "target": target, **fields.pop("manifest_extra", {})}
    return RecordedRun(
        "test",
        Manifest.from_json(manifest),
        tuple(steps),
        slo or Slo(),
        target=RecordedTarget.from_json(target),
        **fields,
    )


FIXTURES = Path(__file__).resolve().parents[1] / "report" / "fixtures"


def fixture_run(tmp_path: Path, name: str) -> Path:
    """A private copy of a recorded run (tests never write into the checked-in files)."""
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target
