"""Rows against files: does every row have its file, unchanged, and every file its row?

    report = verify(settings)
    report.consistent            # True when nothing is missing, orphaned, changed or stale
    report.as_dict()             # {"rows", "files", "missing_files", "orphan_files",
                                 #  "mismatched", "stale_partials", "quarantined_files",
                                 #  "consistent"}

Stored files are compared with rows. Partial uploads (`.incoming-*.part`) are uploads arriving,
unless last written more than repair.SETTLE_AFTER_S ago: then a crash left them (stale).
Quarantined orphans (`*.orphan`, set aside by `verify --repair`) are listed, not counted against
consistency. Read-only: nothing is created, not even the tables or the directory. A row whose
stored name is not one rightsizer makes counts as missing; its path is never opened.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from rightsizer.config import Settings
from rightsizer.errors import RightsizerError
from rightsizer.uploader import records
from rightsizer.uploader.database import Database
from rightsizer.uploader.files import DataDir, EntryKind, unusable
from rightsizer.uploader.repair import is_stale
from rightsizer.uploader.schema import uploaded_files


@dataclass(frozen=True)
class Mismatch:
    """A row whose file is there but differs from what the row recorded."""

    id: int
    stored_name: str
    expected_size: int
    actual_size: int
    expected_sha256: str
    actual_sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stored_name": self.stored_name,
            "expected_size": self.expected_size,
            "actual_size": self.actual_size,
            "expected_sha256": self.expected_sha256,
            "actual_sha256": self.actual_sha256,
        }


@dataclass(frozen=True)
class VerifyReport:
    """Counts and every inconsistency found, by stored name."""

    rows: int
    files: int
    missing_files: tuple[str, ...]
    orphan_files: tuple[str, ...]
    mismatched: tuple[Mismatch, ...]
    stale_partials: tuple[str, ...] = ()
    quarantined_files: tuple[str, ...] = ()

    @property
    def consistent(self) -> bool:
        return not (
            self.missing_files or self.orphan_files or self.mismatched or self.stale_partials
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "files": self.files,
            "missing_files": list(self.missing_files),
            "orphan_files": list(self.orphan_files),
            "mismatched": [m.as_dict() for m in self.mismatched],
            "stale_partials": list(self.stale_partials),
            "quarantined_files": list(self.quarantined_files),
            "consistent": self.consistent,
        }


def verify(settings: Settings, *, now: float | None = None) -> VerifyReport:
    """Compare `uploaded_files` with the stored files of the data directory."""
    now = time.time() if now is None else now
    datadir = DataDir(settings.data_dir)
    try:
        entries = list(datadir.entries())
    except OSError as exc:
        raise unusable(settings.data_dir, exc) from None
    on_disk = {e.name: e.size for e in entries if e.kind is EntryKind.STORED}
    rows = _rows(settings.db)
    missing: list[str] = []
    mismatched: list[Mismatch] = []
    for row in rows:
        if row.stored_name not in on_disk:
            missing.append(row.stored_name)
            continue
        try:
            size, digest = _measure(datadir, row.stored_name)
        except FileNotFoundError:
            missing.append(row.stored_name)
            continue
        except OSError as exc:
            raise RightsizerError(f"{row.stored_name}: cannot read it ({exc.strerror})") from None
        if size != row.size or digest != row.sha256:
            mismatched.append(Mismatch(row.id, row.stored_name, row.size, size, row.sha256, digest))
    known = {row.stored_name for row in rows}
    return VerifyReport(
        rows=len(rows),
        files=len(on_disk),
        missing_files=tuple(missing),
        orphan_files=tuple(sorted(set(on_disk) - known)),
        mismatched=tuple(mismatched),
        stale_partials=tuple(
            sorted(e.name for e in entries if e.kind is EntryKind.PARTIAL and is_stale(e, now))
        ),
        quarantined_files=tuple(sorted(e.name for e in entries if e.kind is EntryKind.QUARANTINED)),
    )


def _rows(url: str) -> list[records.StoredFile]:
    db = Database(url)
    try:
        if db.sqlite_path is not None and not db.sqlite_path.exists():
            return []

        has_table = db.run_core(lambda conn: sa.inspect(conn).has_table(uploaded_files.name))
        return db.run(records.every) if has_table else []
    finally:
        db.dispose()


def _measure(datadir: DataDir, stored_name: str) -> tuple[int, str]:
    """Size and SHA-256 of a stored file, read without following a symlink."""
    path = datadir.path_of(stored_name)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        return handle.tell(), digest
