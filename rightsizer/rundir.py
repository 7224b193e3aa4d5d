"""The run directory: everything one load run measured, in files that later stages read.

    <out>/<YYYYmmdd-HHMMSS>-<label>/
        manifest.json   settings, versions, tasks, caps, host, git revision, load start/end
        metrics.db      every series (rightsizer.metrics.store), alarm history
        steps.json      per-step statistics (rightsizer.load)
        locust_*.csv    Locust's own CSV
        report.html, charts/*.png    (rightsizer.report)

Stages only read what earlier stages wrote; writes are atomic (temp file, then rename), so a
reader never sees half a file, even after Ctrl-C.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rightsizer.errors import UsageError

MANIFEST = "manifest.json"
METRICS = "metrics.db"
STEPS = "steps.json"
REPORT = "report.html"
COMPARE = "compare.html"
ANSWER = "answer.json"
CHARTS = "charts"
_LABEL = re.compile(r"[^A-Za-z0-9._-]+")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` through a temp file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file 0600; results are meant to be shared like any written file.
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, document: Any) -> None:
    write_atomic(path, json.dumps(document, indent=2, sort_keys=False) + "\n")


@dataclass(frozen=True)
class RunDir:
    """Paths of one run; `RunDir.create(out, label)` makes a new one, `RunDir.open(p)` an old."""

    path: Path

    @classmethod
    def create(cls, out: Path, label: str, now: datetime | None = None) -> RunDir:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        safe = _LABEL.sub("-", label).strip("-.") or "run"
        path = out / f"{stamp}-{safe}"
        suffix = 1
        while path.exists():
            suffix += 1
            path = out / f"{stamp}-{safe}-{suffix}"
        # Readable by others, writable by us alone whatever the umask: the run's own fleet
        # records live here, and rightsizer acts only on files only it could write.
        path.mkdir(parents=True)
        path.chmod(0o755)
        return cls(path)

    @classmethod
    def open(cls, path: Path) -> RunDir:
        if not (path / MANIFEST).is_file():
            raise UsageError(f"{path}: not a run directory (no {MANIFEST}); give a run's folder")
        return cls(path)

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS

    @property
    def steps_path(self) -> Path:
        return self.path / STEPS

    @property
    def answer_path(self) -> Path:
        return self.path / ANSWER

    @property
    def report_path(self) -> Path:
        return self.path / REPORT

    def manifest(self) -> dict[str, Any]:
        document = _read_json(self.manifest_path)
        if not isinstance(document, dict):
            raise UsageError(f"{self.manifest_path}: expected a JSON object")
        return document

    def steps(self) -> list[dict[str, Any]]:
        document = _read_json(self.steps_path)
        steps = document.get("steps") if isinstance(document, dict) else None
        if not isinstance(steps, list):
            raise UsageError(f"{self.steps_path}: no 'steps' list; the run did not finish a step")
        return steps


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: missing; the run did not write it") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
