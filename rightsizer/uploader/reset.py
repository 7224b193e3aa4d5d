"""Back to the initial state: both tables emptied, every stored file deleted, nothing else.

    plan = plan_reset(settings)            # what would go; RefusedError for a foreign data dir
    result = reset(settings)               # do it (the CLI asks first unless --yes)
    result = reset(settings, dry_run=True) # the plan, changing nothing

This replaces the seed's `rm -rf /mnt/data/*` and `drop table`. It only works in a data directory
that rightsizer initialised (the marker file); a missing or empty one is initialised instead. It
deletes only regular files whose names rightsizer makes (stored files and its own temp files),
never the directory itself, a symlink, a subdirectory, a mount point, or anything it does not
recognise, and never anything outside the directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rightsizer.config import Settings
from rightsizer.errors import RightsizerError
from rightsizer.fleet.state import refuse_live_fleet
from rightsizer.uploader.database import Database
from rightsizer.uploader.files import DataDir, DirState
from rightsizer.uploader.schema import TABLES, empty_tables, table_counts

MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True)
class ResetPlan:
    """What a reset would do, read without changing anything."""

    data_dir: Path
    db: str
    dir_state: DirState
    files: tuple[str, ...]
    file_bytes: int
    rows: Mapping[str, int]
    left_alone: tuple[str, ...]

    @property
    def is_clean(self) -> bool:
        """Nothing to delete (the directory may still need its marker)."""
        return not self.files and not any(self.rows.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "db": self.db,
            "dir_state": self.dir_state.value,
            "files": len(self.files),
            "file_bytes": self.file_bytes,
            "rows": dict(self.rows),
            "left_alone": list(self.left_alone),
        }


@dataclass(frozen=True)
class ResetResult:
    """What a reset did (with `dry_run`, nothing)."""

    plan: ResetPlan
    dry_run: bool
    deleted_files: tuple[str, ...] = ()
    deleted_rows: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.as_dict(),
            "dry_run": self.dry_run,
            "deleted_files": len(self.deleted_files),
            "deleted_rows": dict(self.deleted_rows),
        }


def plan_reset(settings: Settings) -> ResetPlan:
    """Look at the data directory and the tables; RefusedError when the directory is foreign."""
    datadir = DataDir(settings.data_dir)
    try:
        state = datadir.state()
        if state is DirState.FOREIGN:
            raise datadir.refusal()
        entries = list(datadir.entries()) if state is DirState.OURS else []
        left_alone = tuple(datadir.others()) if state is DirState.OURS else ()
    except OSError as exc:
        raise RightsizerError(f"{settings.data_dir}: cannot read it ({exc.strerror})") from None
    db = Database(settings.db)
    try:
        if db.sqlite_path is not None and not db.sqlite_path.exists():
            rows = {table.name: 0 for table in TABLES}
        else:
            rows = db.run_core(table_counts)
    finally:
        db.dispose()
    return ResetPlan(
        data_dir=settings.data_dir,
        db=db.label,
        dir_state=state,
        files=tuple(sorted(entry.name for entry in entries)),
        file_bytes=sum(entry.size for entry in entries),
        rows=rows,
        left_alone=left_alone,
    )


def reset(settings: Settings, *, dry_run: bool = False, mountinfo: Path = MOUNTINFO) -> ResetResult:
    """Empty the tables and delete rightsizer's files; the directory ends up marked and empty."""
    plan = plan_reset(settings)
    if dry_run:
        return ResetResult(plan, dry_run=True)
    refuse_live_fleet(settings.state_dir, "reset the uploader's data")
    datadir = DataDir(settings.data_dir)
    datadir.initialise()
    db = Database(settings.db)
    try:
        db.create_schema()
        deleted_rows = db.run_core(empty_tables)
    finally:
        db.dispose()
    # Rows go first: a reset cut short leaves orphan files (verify reports them, a second reset
    # removes them), never rows pointing at nothing.
    try:
        names = [entry.name for entry in datadir.entries()]
        kept = mounted_names(settings.data_dir, mountinfo)
        deleted = datadir.remove(names, keep=kept)
    except OSError as exc:
        raise RightsizerError(
            f"{settings.data_dir}: could not delete stored files ({exc.strerror}); "
            "the tables are already empty, run reset again"
        ) from None
    return ResetResult(plan, False, tuple(sorted(deleted)), deleted_rows)


def mounted_names(root: Path, mountinfo: Path) -> frozenset[str]:
    """Names directly inside `root` that are mount points (so never deleted)."""
    real_root = Path(os.path.realpath(root))
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return frozenset()
    names: set[str] = set()
    for line in lines:
        fields = line.split()
        if len(fields) < 5:
            continue
        point = Path(_unescape(fields[4]))
        if point.parent == real_root:
            names.add(point.name)
    return frozenset(names)


def _unescape(path: str) -> str:
    r"""mountinfo writes space, tab, newline and backslash as \040, \011, \012, \134."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        path = path.replace(code, char)
    return path
