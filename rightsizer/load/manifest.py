"""What manifest.json says about a run: settings, versions, target, timings, outcome.

Built from plain values (no Locust import): `versions()` reads installed versions, the HAProxy
binary and the git revision of rightsizer's own checkout; `manifest()` assembles the document.
Times are epoch seconds.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rightsizer

if TYPE_CHECKING:
    from rightsizer.load.outcome import LoadOutcome

PACKAGE_DIR = Path(rightsizer.__file__).resolve().parent


def _run(command: list[str], cwd: Path | None = None) -> str | None:
    try:
        done = subprocess.run(
            command, check=False, cwd=cwd, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0].strip() if done.returncode == 0 and text else None


def git_revision(directory: Path = PACKAGE_DIR) -> str | None:
    """The commit rightsizer runs from ("+dirty" with local changes); None outside git."""
    revision = _run(["git", "rev-parse", "HEAD"], cwd=directory)
    if revision is None:
        return None
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=directory)
    return revision + ("+dirty" if dirty else "")


def haproxy_version() -> str | None:
    """`haproxy -v`'s first line, or None when HAProxy is not installed."""
    binary = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    return _run([binary, "-v"]) if binary else None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    return {
        "rightsizer": rightsizer.__version__,
        "locust": _version("locust"),
        "python": platform.python_version(),
        "haproxy": haproxy_version(),
        "git_revision": git_revision(),
    }


def timings(outcome: LoadOutcome, step_time: float, warmup: float) -> dict[str, Any]:
    """The manifest's time keys: load window, drain, cooldown window, how it ended."""
    return {
        "step_time": step_time,
        "warmup": warmup,
        "load_start": outcome.load_start,
        "load_end": outcome.load_end,
        "drain_end": outcome.drain_end,
        "drain_forced": outcome.drain_forced,
        "drain_cut": outcome.drain_cut,
        "cooldown": {
            "start": outcome.cooldown_start,
            "end": outcome.cooldown_end,
            "cut_short": outcome.cooldown_cut_short,
        },
        "interrupted": outcome.interrupted,
        "stop_reason": outcome.stop_reason,
        "steps_started": len(outcome.step_starts),
        "requests_recorded": len(outcome.records),
        "generator_bound_steps": sorted(set(outcome.generator_warnings)),
        "worker_report": outcome.workers,
        "locust_errors_logged": outcome.locust_errors,
    }
