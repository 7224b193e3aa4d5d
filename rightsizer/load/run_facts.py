"""The facts of manifest.json (rightsizer.manifest.Manifest) that the load gathers.

Built from plain values (no Locust import): `versions()` reads installed versions, the HAProxy
binary and the git revision of rightsizer's own checkout; `load_figures()` takes a finished
load's window, drain, cooldown and counts. Times are epoch seconds.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import rightsizer
from rightsizer.manifest import Cooldown, LoadFigures

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


def load_figures(outcome: LoadOutcome) -> LoadFigures:
    """What the load adds to the manifest: its window, drain, cooldown and counts (how it
    ended, `outcome.stop`, goes in the manifest's "interrupted" and "stop_reason")."""
    return LoadFigures(
        load_start=outcome.load_start,
        load_end=outcome.load_end,
        drain_end=outcome.drain_end,
        drain_forced=outcome.drain_forced,
        drain_cut=outcome.drain_cut,
        cooldown=Cooldown(outcome.cooldown_start, outcome.cooldown_end, outcome.cooldown_cut_short),
        steps_started=len(outcome.step_starts),
        requests_recorded=len(outcome.records),
        generator_bound_steps=tuple(sorted(set(outcome.generator_warnings))),
        worker_report=outcome.workers,
        locust_errors_logged=outcome.locust_errors,
    )
